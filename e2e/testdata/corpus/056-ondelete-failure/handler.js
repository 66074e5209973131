function OnDelete(meta, options) {
    if (meta.id.indexOf("protected") === 0) {
        throw new Error("refusing to archive " + meta.id);
    }
    archive[meta.id] = {expired: options.expired};
}
