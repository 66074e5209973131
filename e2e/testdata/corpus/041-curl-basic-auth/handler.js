function OnUpdate(doc, meta) {
    var res = curl("GET", billing, {path: "/invoices"});
    out[meta.id] = {authorization: res.body.authorization};
}
