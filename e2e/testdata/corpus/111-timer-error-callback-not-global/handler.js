// Common mistakes when scheduling: a nested helper, an anonymous
// function or a name string instead of a global function.
function OnUpdate(doc, meta) {
    function Nested(context) {}
    var attempts = {
        nested: function() { createTimer(Nested, new Date(), "a", {}); },
        anonymous: function() { createTimer(function(context) {}, new Date(), "b", {}); },
        by_name: function() { createTimer("Expire", new Date(), "c", {}); },
        cancel_by_name: function() { cancelTimer("Expire", "c"); }
    };
    var out = {};
    for (var k in attempts) {
        try {
            attempts[k]();
            out[k] = "no error";
        } catch (e) {
            out[k] = {message: e.message, eventing_error: e instanceof EventingError};
        }
    }
    errors[meta.id] = out;
}

function Expire(context) {}
