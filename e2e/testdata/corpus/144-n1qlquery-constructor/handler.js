// A handler written for 5.x: the deprecated N1qlQuery object.
function OnUpdate(doc, meta) {
    var params = {namedParams: {"$id": meta.id}};

    var q = new N1qlQuery("DELETE FROM `{{bucket:stale}}` USE KEYS $id", params);
    q.execQuery();
}
