// How response bodies arrive by Content-Type.
function OnUpdate(doc, meta) {
    var form = curl("GET", svc, {path: "/form"});
    var empty = curl("GET", svc, {path: "/empty-json"});
    var bad;
    try {
        curl("GET", svc, {path: "/bad-json"});
        bad = "no error";
    } catch (e) {
        bad = e instanceof CurlError ? "CurlError" : String(e);
    }
    out[meta.id] = {form: form.body, empty_is_null: empty.body === null, bad_json: bad};
}
