// A counter document whose count was overwritten with text cannot be incremented.
function OnUpdate(doc, meta) {
    var res = couchbase.increment(counters, {id: "broken"});
    out[meta.id] = {
        success: res.success,
        not_number: !res.success && res.error.not_number === true,
        name: res.success ? null : res.error.name
    };
}
