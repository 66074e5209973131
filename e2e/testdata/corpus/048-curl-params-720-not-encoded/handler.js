function OnUpdate(doc, meta) {
    var res = curl("GET", svc, {path: "/search", params: {key1: "value@1", key2: "value=2"}});
    out[meta.id] = {query: res.body.query};
}
