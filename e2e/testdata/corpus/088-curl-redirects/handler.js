// Follow redirects by default; with redirect:false the 3xx comes back to the handler.
function OnUpdate(doc, meta) {
    var followed = curl("GET", svc, {path: "/redirect"});
    var kept = curl("GET", svc, {path: "/redirect", redirect: false});
    out[meta.id] = {
        followed_status: followed.status,
        followed_path: followed.body.path,
        kept_status: kept.status,
        location: kept.headers["Location"]
    };
}
