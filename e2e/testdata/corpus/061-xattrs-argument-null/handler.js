function OnUpdate(doc, meta, xattrs) {
    out[meta.id] = {xattrs_is_null: xattrs === null, arity: arguments.length};
}
