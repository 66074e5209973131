// A missing lookup document is a result, not an exception.
function OnUpdate(doc, meta) {
    var res = couchbase.get(store, {id: "missing::" + meta.id});
    store["result::" + meta.id] = {
        success: res.success,
        key_not_found: res.error.key_not_found === true,
        name: res.error.name,
        code_type: typeof res.error.code,
        desc_type: typeof res.error.desc
    };
}
