// zh-CN / en from JSON catalogues; the choice is remembered in localStorage.
const KEY = 'pingan.lang';
export const LANGS = ['zh-CN', 'en'];
let current = LANGS.includes(localStorage.getItem(KEY)) ? localStorage.getItem(KEY) : 'zh-CN';
let messages = {};

export const lang = () => current;

export async function loadI18n() {
  const res = await fetch(`/shared/i18n/${current}.json`);
  messages = await res.json();
  document.documentElement.lang = current;
  translate(document);
}

export function t(key, params = {}) {
  const template = messages[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, k) => (k in params ? String(params[k]) : `{${k}}`));
}

/** A name from the API in the current language (units, categories, departments). */
export const localName = (o) => (current === 'en' ? o.name_en || o.name : o.name);

export function translate(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  const title = document.querySelector('title[data-i18n]');
  if (title) document.title = t(title.dataset.i18n);
}

export async function setLang(next) {
  if (!LANGS.includes(next) || next === current) return;
  current = next;
  localStorage.setItem(KEY, next);
  await loadI18n();
  window.dispatchEvent(new CustomEvent('langchange', { detail: next }));
}

/** Wire a <select> as the language switch. */
export function langSwitch(select) {
  select.value = current;
  select.addEventListener('change', () => setLang(select.value));
}

export function formatTime(iso) {
  if (!iso) return '–';
  return new Date(iso).toLocaleString(current, { hour12: false, timeZone: 'Asia/Shanghai' });
}

export function formatDuration(seconds) {
  const neg = seconds < 0;
  let s = Math.abs(Math.round(seconds));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const hh = Math.floor(s / 3600); s -= hh * 3600;
  const mm = Math.floor(s / 60);
  const text = d ? t('time.dhm', { d, h: hh, m: mm }) : t('time.hm', { h: hh, m: mm });
  return neg ? t('time.overdue_by', { t: text }) : text;
}
