// Video calls (可视平安通): WebRTC between browsers, signalled over Pingan's WebSocket.
//
// The server keeps the call's state and log; this client follows it. For every pair of joined
// parties one RTCPeerConnection is made, and the party that joined earlier sends the offer, so a
// third participant connects to everyone already in the call. ICE is restarted when a path fails.
import { get, post, user } from './api.js';

const RESTART_AFTER_MS = 2500;

export class CallClient extends EventTarget {
  /** `send` writes one JSON message to the WebSocket. */
  constructor(send) {
    super();
    this.send = send;
    this.call = null;
    this.local = null;
    this.peers = new Map(); // user id → { pc, stream, offerer, timer }
    this.iceServers = null;
  }

  get me() { return user().id; }

  get active() { return Boolean(this.call) && this.call.state !== 'ended'; }

  party(id) { return this.call?.parties.find((p) => p.user_id === id); }

  async config() {
    if (!this.iceServers) {
      const c = await get('/api/v1/calls/config');
      this.iceServers = c.ice_servers;
    }
    return this.iceServers;
  }

  /** Ring someone; the camera opens while the server rings them. */
  async place(calleeId, caseId = null) {
    if (this.active) throw new Error('busy');
    const [stream, call] = await Promise.all([
      this.openMedia(), post('/api/v1/calls', { callee_id: calleeId, case_id: caseId }), this.config(),
    ]);
    this.local = stream;
    this.follow(call);
    return call;
  }

  async accept() {
    const id = this.call.id;
    this.acceptedAt = Date.now();
    [this.local] = await Promise.all([this.openMedia(), this.config()]);
    this.follow(await post(`/api/v1/calls/${id}/accept`, {}));
  }

  async refuse() { this.follow(await post(`/api/v1/calls/${this.call.id}/refuse`, {})); }

  async hangUp() {
    if (!this.active) return;
    this.follow(await post(`/api/v1/calls/${this.call.id}/hangup`, {}));
  }

  async invite(userId) { this.follow(await post(`/api/v1/calls/${this.call.id}/invite`, { user_id: userId })); }

  /** Send something to everyone joined (a shared case map, a recording notice). */
  share(data) {
    for (const p of this.call.parties) {
      if (p.user_id !== this.me && p.state === 'joined') this.signal(p.user_id, { kind: 'share', ...data });
    }
  }

  async openMedia() {
    try {
      return await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
    } catch {
      return navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    }
  }

  /** Feed every WebSocket message here; returns true when it was about calls. */
  handle(msg) {
    if (msg.type === 'call.update') { this.follow(msg.call); return true; }
    if (msg.type === 'call.signal') { this.onSignal(msg); return true; }
    if (msg.type === 'call.error') { this.emit('error', { code: msg.code }); return true; }
    return false;
  }

  follow(call) {
    if (this.call && this.call.id !== call.id) {
      // someone rings while we are busy: the server will time it out; say so locally
      if (this.active && call.state !== 'ended') this.emit('busy-ring', { call });
      return;
    }
    // replies and pushes can cross on the way: a state older than the one held is stale, but its
    // arrival (a reply once the camera is open) may be the moment to connect to the newest one
    if (this.call && call.version < this.call.version) call = this.call;
    const first = !this.call;
    this.call = call;
    const mine = this.party(this.me);
    if (first && mine && mine.state === 'invited') this.emit('ring', { call });
    this.emit('update', { call });
    if (call.state === 'ended' || !mine || mine.state !== 'joined') {
      if (!first || call.state === 'ended') this.finish();
      return;
    }
    for (const p of call.parties) {
      if (p.user_id === this.me) continue;
      if (p.state === 'joined' && !this.peers.has(p.user_id) && this.local && joinedBefore(mine, p)) {
        this.connect(p.user_id, true);
      }
      if (p.state !== 'joined' && this.peers.has(p.user_id)) this.drop(p.user_id);
    }
  }

  connect(peerId, offerer) {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers || [] });
    const peer = { pc, stream: new MediaStream(), offerer, timer: null, pending: [] };
    this.peers.set(peerId, peer);
    for (const track of this.local?.getTracks() || []) pc.addTrack(track, this.local);
    pc.addEventListener('track', (e) => {
      peer.stream.addTrack(e.track);
      this.emit('remote', { userId: peerId, stream: peer.stream });
    });
    pc.addEventListener('icecandidate', (e) => {
      if (e.candidate) this.signal(peerId, { kind: 'candidate', candidate: e.candidate.toJSON() });
    });
    pc.addEventListener('iceconnectionstatechange', () => this.watch(peerId, peer));
    pc.addEventListener('connectionstatechange', () => this.emit('peer', { userId: peerId, state: pc.connectionState }));
    if (offerer) {
      pc.addEventListener('negotiationneeded', () => this.offer(peerId, peer, false));
    }
    return peer;
  }

  async offer(peerId, peer, iceRestart) {
    const offer = await peer.pc.createOffer({ iceRestart });
    await peer.pc.setLocalDescription(offer);
    this.signal(peerId, { kind: 'offer', sdp: peer.pc.localDescription.sdp });
  }

  /** A path that fails (or stays disconnected) is restarted by the side that offered. */
  watch(peerId, peer) {
    const state = peer.pc.iceConnectionState;
    clearTimeout(peer.timer);
    if (!peer.offerer) return;
    if (state === 'failed') this.restart(peerId, peer);
    else if (state === 'disconnected') peer.timer = setTimeout(() => this.restart(peerId, peer), RESTART_AFTER_MS);
  }

  restart(peerId, peer) {
    if (!this.peers.has(peerId)) return;
    this.emit('restart', { userId: peerId });
    this.offer(peerId, peer, true).catch(() => {});
  }

  async onSignal({ call_id: callId, from, data }) {
    if (!this.call || callId !== this.call.id) return;
    let peer = this.peers.get(from);
    if (data.kind === 'share') { this.emit('share', { from, data }); return; }
    if (data.kind === 'offer') {
      if (!peer) peer = this.connect(from, false);
      await peer.pc.setRemoteDescription({ type: 'offer', sdp: data.sdp });
      await this.drain(peer);
      const answer = await peer.pc.createAnswer();
      await peer.pc.setLocalDescription(answer);
      this.signal(from, { kind: 'answer', sdp: peer.pc.localDescription.sdp });
    } else if (data.kind === 'answer' && peer) {
      await peer.pc.setRemoteDescription({ type: 'answer', sdp: data.sdp });
      await this.drain(peer);
    } else if (data.kind === 'candidate' && peer) {
      if (peer.pc.remoteDescription) await peer.pc.addIceCandidate(data.candidate).catch(() => {});
      else peer.pending.push(data.candidate);
    }
  }

  async drain(peer) {
    for (const c of peer.pending.splice(0)) await peer.pc.addIceCandidate(c).catch(() => {});
  }

  signal(to, data) {
    this.send({ type: 'call.signal', call_id: this.call.id, to, data });
  }

  drop(peerId) {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    clearTimeout(peer.timer);
    peer.pc.close();
    this.peers.delete(peerId);
    this.emit('left', { userId: peerId });
  }

  finish() {
    for (const id of [...this.peers.keys()]) this.drop(id);
    for (const track of this.local?.getTracks() || []) track.stop();
    this.local = null;
    const ended = this.call;
    this.call = null;
    this.emit('ended', { call: ended });
  }

  /** Frames and bytes received per remote party, from getStats(); read by the browser tests. */
  async stats() {
    const out = {};
    for (const [id, peer] of this.peers) {
      const report = await peer.pc.getStats();
      const s = { framesDecoded: 0, audioBytes: 0, videoBytes: 0 };
      report.forEach((r) => {
        if (r.type !== 'inbound-rtp') return;
        if (r.kind === 'video') { s.framesDecoded += r.framesDecoded || 0; s.videoBytes += r.bytesReceived || 0; }
        if (r.kind === 'audio') s.audioBytes += r.bytesReceived || 0;
      });
      out[id] = s;
    }
    return out;
  }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }
}

function joinedBefore(me, other) {
  const a = Date.parse(me.joined_at);
  const b = Date.parse(other.joined_at);
  return a < b || (a === b && me.user_id < other.user_id);
}

/** A ring tone from the Web Audio API (no sound file to ship); returns a function that stops it. */
export function ringTone() {
  let ctx;
  try { ctx = new AudioContext(); } catch { return () => {}; }
  let stopped = false;
  const beep = () => {
    if (stopped) return;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.15;
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.4);
  };
  beep();
  const timer = setInterval(beep, 1200);
  return () => { stopped = true; clearInterval(timer); ctx.close().catch(() => {}); };
}

/** A video element that plays a stream, muted when it is one's own. */
export function videoOf(stream, { muted = false, label = '' } = {}) {
  const v = document.createElement('video');
  v.autoplay = true;
  v.playsInline = true;
  v.muted = muted;
  v.srcObject = stream;
  if (label) v.dataset.label = label;
  return v;
}
