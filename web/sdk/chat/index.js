// The chat part of the SDK, loaded by the client only on pages that use it (the widget is on, a
// chat continues from an earlier page, or the site calls the chat API), so a site without the
// chat does not download it.

export { ChatSession } from './chat_session.js';
export { ChatStore } from './chat_store.js';
export { ChatUi } from './chat_ui.js';
