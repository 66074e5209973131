// Debounce: every change to a cart re-arms the same "abandoned cart"
// timer, so only the last context is ever delivered.
function OnUpdate(doc, meta) {
    var due = new Date(Date.now() + 1000);
    var r1 = createTimer(CartAbandoned, due, meta.id, {cart: meta.id, version: 1});
    var r2 = createTimer(CartAbandoned, due, meta.id, {cart: meta.id, version: 2});
    log("re-armed", r1, r2);
}

function CartAbandoned(context) {
    var prev = notices[context.cart];
    notices[context.cart] = {version: context.version, fired: prev ? prev.fired + 1 : 1};
}
