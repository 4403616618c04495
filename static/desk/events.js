// The live events table: which module handles which event type. Modules register with
// on(type, handler) (import it from live.js); live.js feeds every event, from the socket or
// from a resync, to dispatch(), once per event id. Several handlers may share a type: each
// module reacts for its own pane. This module imports nothing, so registering works whatever
// order the modules are evaluated in.
const handlers = new Map(); // event type -> [handler(event)]

export function on(type, handler) {
  if (!handlers.has(type)) handlers.set(type, []);
  handlers.get(type).push(handler);
}

export function dispatch(event) {
  (handlers.get(event.type) || []).forEach((handler) => {
    try {
      handler(event);
    } catch (error) { // one module's bug must not stop the others from seeing the event
      console.error(error);
    }
  });
}
