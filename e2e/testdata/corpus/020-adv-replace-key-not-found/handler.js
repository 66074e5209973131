// Only update a status document that already exists.
function OnUpdate(doc, meta) {
    var res = couchbase.replace(status, {id: "status::" + meta.id}, {state: doc.state});
    results[meta.id] = {
        success: res.success,
        key_not_found: !res.success && res.error.key_not_found === true,
        name: res.success ? null : res.error.name
    };
}
