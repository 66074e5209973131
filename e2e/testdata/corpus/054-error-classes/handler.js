// Eventing's error classes are real Errors and can be constructed by user code.
function OnUpdate(doc, meta) {
    var classes = {KVError: KVError, N1QLError: N1QLError, EventingError: EventingError, CurlError: CurlError, TypeError: TypeError};
    var result = {};
    for (var name in classes) {
        var e = new classes[name]("made by hand");
        result[name] = {instance_of_error: e instanceof Error, own_class: e instanceof classes[name]};
    }
    var caught;
    try {
        throw new KVError("custom kv failure");
    } catch (e) {
        caught = {kv: e instanceof KVError, error: e instanceof Error, message: e.message};
    }
    result.caught = caught;
    out[meta.id] = result;
}
