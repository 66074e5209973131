// References built from numeric ids must be turned into strings first.
function OnUpdate(doc, meta) {
    var out = {};
    var refs = {number: doc.num, object: {id: meta.id}, boolean: true};
    for (var k in refs) {
        try {
            createTimer(Expire, new Date(), refs[k], {});
            out[k] = "no error";
        } catch (e) {
            out[k] = {message: e.message, eventing_error: e instanceof EventingError};
        }
    }
    try {
        cancelTimer(Expire, doc.num);
        out.cancel_number = "no error";
    } catch (e) {
        out.cancel_number = {message: e.message, eventing_error: e instanceof EventingError};
    }
    errors[meta.id] = out;
}

function Expire(context) {}
