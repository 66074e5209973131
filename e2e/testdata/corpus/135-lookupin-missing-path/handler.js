// Read optional fields of a profile in one round trip.
function OnUpdate(doc, meta) {
    var r = couchbase.lookupIn(profiles, {id: doc.profile}, [
        couchbase.LookupInSpec.get("name"),
        couchbase.LookupInSpec.get("nickname"),
        couchbase.LookupInSpec.get("address.city"),
        couchbase.LookupInSpec.get("address.zip"),
        couchbase.LookupInSpec.get("prefs", {xattrs: true})
    ]);
    out[meta.id] = {
        success: r.success,
        count: r.doc.length,
        name: r.doc[0],
        nickname_success: r.doc[1].success,
        nickname_value_undefined: r.doc[1].value === undefined,
        nickname_has_value_key: "value" in r.doc[1],
        city: r.doc[2],
        zip_success: r.doc[3].success,
        prefs_success: r.doc[4].success,
        id: r.meta.id,
        cas_is_string: typeof r.meta.cas === "string"
    };
}
