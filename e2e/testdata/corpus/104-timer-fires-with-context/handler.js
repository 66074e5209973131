// Send a reminder a little after an order is placed: the timer carries
// what the reminder needs, so the callback does not read the order again.
function OnUpdate(doc, meta) {
    var due = new Date(Date.now() + 500);
    createTimer(SendReminder, due, "reminder::" + meta.id,
                {order: meta.id, customer: doc.customer, items: doc.items});
}

function SendReminder(context) {
    reminders[context.order] = {customer: context.customer, items: context.items, sent: true};
}
