// A form processor whose vocabulary happens to overlap SQL++: it must not
// be mistaken for queries.
// select the fields to keep; update the summary; delete from the cache.
function OnUpdate(doc, meta) {
    var selected = doc.fields.filter(function(f) { return f !== "secret"; });
    var updateCount = doc.updates || 0;
    /* SELECT * FROM nowhere; -- only a comment */
    var note = "select * from orders where id = 1;";
    var tmpl = `update ${meta.id} set seen = true;`;
    var order = {select: selected.length, update: updateCount + 1, from: "form", insert: false};
    var cache = {};
    cache[meta.id] = 1;
    delete cache[meta.id];
    summary[meta.id] = {
        kept: selected,
        order: order,
        note_length: note.length,
        tmpl: tmpl,
        cache_empty: Object.keys(cache).length === 0
    };
}
