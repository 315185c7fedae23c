// Live events over the WebSocket (no polling), reconnecting with back-off. The returned function
// closes it; its `send` writes a message (call signals) while the socket is open.
import { token } from './api.js';

export function connectLive(onEvent, onStatus = () => {}) {
  let socket = null;
  let delay = 500;
  let stopped = false;

  function open() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${scheme}://${location.host}/api/v1/ws?token=${encodeURIComponent(token())}`);
    socket.addEventListener('message', (e) => {
      const msg = JSON.parse(e.data);
      if (msg.type === 'hello') { delay = 500; onStatus('live'); return; }
      onEvent(msg);
    });
    socket.addEventListener('close', () => {
      onStatus('offline');
      if (!stopped) setTimeout(open, delay);
      delay = Math.min(delay * 2, 15_000);
    });
  }
  open();
  const stop = () => { stopped = true; socket?.close(); };
  stop.send = (msg) => {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(msg));
  };
  return stop;
}
