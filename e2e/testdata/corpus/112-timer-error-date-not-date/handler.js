// The due date arrives as an epoch number or an ISO string in the
// document; createTimer wants a Date object.
function OnUpdate(doc, meta) {
    var out = {};
    var dates = {epoch_ms: doc.epoch, iso_string: doc.iso, missing: undefined};
    for (var k in dates) {
        try {
            createTimer(Expire, dates[k], meta.id + k, {});
            out[k] = "no error";
        } catch (e) {
            out[k] = {message: e.message, eventing_error: e instanceof EventingError};
        }
    }
    errors[meta.id] = out;
}

function Expire(context) {}
