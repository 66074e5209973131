// Forgetting the reference argument (a common slip when porting code
// from cronTimer/docTimer) is an error, not a silent generated reference.
function OnUpdate(doc, meta) {
    var out = {};
    try {
        createTimer(Remind, new Date());
        out.create = "no error";
    } catch (e) {
        out.create = {message: e.message, eventing_error: e instanceof EventingError};
    }
    try {
        cancelTimer(Remind);
        out.cancel = "no error";
    } catch (e) {
        out.cancel = {message: e.message, eventing_error: e instanceof EventingError};
    }
    errors[meta.id] = out;
}

function Remind(context) {}
