// Deferred work the browser way does not exist here; timers are the way.
function OnUpdate(doc, meta) {
    var result = {set_timeout: typeof setTimeout, set_interval: typeof setInterval,
                  set_immediate: typeof setImmediate};
    try {
        setTimeout(function() {}, 10);
        result.scheduled = true;
    } catch (e) {
        result.scheduled = false;
        result.reference_error = e instanceof ReferenceError;
    }
    out[meta.id] = result;
}
