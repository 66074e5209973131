// Fan out: one index document per tag of an article.
function OnUpdate(doc, meta) {
    for (var i = 0; i < doc.tags.length; i++) {
        var tag = doc.tags[i];
        by_tag["tag::" + tag + "::" + meta.id] = {tag: tag, article: meta.id, title: doc.title};
    }
}
