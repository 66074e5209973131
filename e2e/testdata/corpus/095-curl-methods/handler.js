// A small REST client: create, update, check and remove a remote resource.
function OnUpdate(doc, meta) {
    var put = curl("PUT", svc, {path: "/items/" + meta.id, body: {name: doc.name}});
    var del = curl("DELETE", svc, {path: "/items/" + meta.id});
    var head = curl("HEAD", svc, {path: "/items/" + meta.id});
    out[meta.id] = {
        put_method: put.body.method,
        put_body: JSON.parse(put.body.body),
        delete_method: del.body.method,
        delete_path: del.body.path,
        head_status: head.status
    };
}
