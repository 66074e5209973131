var counter = 0;

function OnUpdate(doc, meta) {
    counter++;
}
