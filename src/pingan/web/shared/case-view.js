// Pieces of a case shown by every app: summary, photos, timeline, SLA clocks and action forms.
import { act, get, photoUrl, upload } from './api.js';
import { h, clear } from './dom.js';
import { t, localName, formatTime, formatDuration } from './i18n.js';
import { STATE_COLOURS } from './map.js';

export function stateBadge(state) {
  return h('span', { class: 'badge', style: `background:${STATE_COLOURS[state] || '#90a4ae'}`,
    dataset: { state }, text: t(`state.${state}`) });
}

export function caseSummary(kase) {
  const category = localName({ name: kase.category_name, name_en: kase.category_name_en });
  return h('div', { class: 'case-summary' },
    h('div', { class: 'case-head' },
      h('strong', { class: 'tracking-no', text: kase.tracking_no }), ' ', stateBadge(kase.state),
      kase.urgency === 'urgent' ? h('span', { class: 'badge urgent', text: t('urgency.urgent') }) : null,
      kase.overdue ? h('span', { class: 'badge overdue', text: t('case.overdue') }) : null),
    h('h3', { class: 'case-title', text: kase.title }),
    kase.description ? h('p', { class: 'case-desc', text: kase.description }) : null,
    h('dl', {},
      h('dt', { text: t('case.category') }), h('dd', { text: category }),
      h('dt', { text: t('case.location') }),
      h('dd', { text: `${kase.address ? kase.address + ' · ' : ''}${kase.lng.toFixed(5)}, ${kase.lat.toFixed(5)}` }),
      h('dt', { text: t('case.grid') }), h('dd', { text: kase.grid_code }),
      kase.department_id ? h('dt', { text: t('case.department') }) : null,
      kase.department_id ? h('dd', { text: kase.department_id }) : null,
      h('dt', { text: t('case.reported_at') }), h('dd', { text: formatTime(kase.created_at) }),
      kase.due_at ? h('dt', { text: t('case.due_at') }) : null,
      kase.due_at ? h('dd', { text: formatTime(kase.due_at) }) : null,
      kase.satisfaction ? h('dt', { text: t('case.satisfaction') }) : null,
      kase.satisfaction ? h('dd', { text: '★'.repeat(kase.satisfaction) }) : null));
}

export function photoStrip(ids) {
  const strip = h('div', { class: 'photos' });
  for (const id of ids) {
    const img = h('img', { alt: t('case.photo'), dataset: { attachment: String(id) } });
    strip.append(img);
    photoUrl(id).then((url) => { img.src = url; }).catch(() => img.classList.add('missing'));
  }
  return strip;
}

export function timelineList(entries) {
  return h('ol', { class: 'timeline' }, entries.map((e) => {
    const photos = (e.data && e.data.photo_ids) || [];
    return h('li', { dataset: { action: e.action } },
      h('span', { class: 'when', text: formatTime(e.at) }), ' ',
      h('strong', { text: t(`action.${e.action}`) }), ' → ', stateBadge(e.to_state), ' ',
      h('span', { class: 'who', text: t(`role.${e.actor_role}`) }),
      e.note ? h('div', { class: 'note', text: e.note }) : null,
      photos.length ? photoStrip(photos) : null);
  }));
}

export function deadlineList(deadlines) {
  const live = deadlines.filter((d) => d.status === 'live');
  return h('ul', { class: 'deadlines' }, live.map((d) => {
    const left = (new Date(d.due_at) - Date.now()) / 1000;
    return h('li', { class: left < 0 ? 'lapsed' : '' },
      h('span', { text: t(`stage.${d.stage}`) }), ': ',
      h('span', { class: 'sla-clock', text: formatDuration(left) }),
      h('span', { class: 'muted', text: ` (${t(`clock.${d.clock}`)}, ${formatTime(d.due_at)})` }));
  }));
}

/** What each action must carry, as form fields (the API checks the same). */
const FIELDS = {
  reject: ['reason'], return: ['reason'], escalate: ['reason'], suspend: ['reason'],
  dispatch: ['department'], handle: ['note', 'photos'], verify: ['passed', 'note', 'photos'],
  evaluate: ['satisfaction'], supervise: ['note'], merge: ['target'],
};

function field(name, kase) {
  switch (name) {
    case 'reason':
      return h('label', {}, t('form.reason'), h('textarea', { name: 'reason', required: true, rows: 2 }));
    case 'note':
      return h('label', {}, t('form.note'), h('textarea', { name: 'note', required: true, rows: 2 }));
    case 'photos':
      return h('label', {}, t('form.photos'),
        h('input', { type: 'file', name: 'photos', accept: 'image/*', capture: 'environment', multiple: true }));
    case 'passed':
      return h('label', {}, t('form.passed'),
        h('select', { name: 'passed' }, h('option', { value: 'true', text: t('form.pass') }),
          h('option', { value: 'false', text: t('form.fail') })));
    case 'satisfaction':
      return h('fieldset', { class: 'stars' }, h('legend', { text: t('form.satisfaction') }),
        [5, 4, 3, 2, 1].map((n) => h('label', {},
          h('input', { type: 'radio', name: 'satisfaction', value: String(n), required: true, checked: n === 5 }),
          ` ${'★'.repeat(n)}`)));
    case 'target':
      return h('label', {}, t('form.target'), h('input', { type: 'number', name: 'target', required: true }));
    case 'department': {
      const select = h('select', { name: 'department', required: true });
      Promise.all([get('/api/v1/departments'), get(`/api/v1/cases/${kase.id}/dispatch-suggestion`)])
        .then(([depts, suggestion]) => {
          for (const d of depts) select.append(h('option', { value: d.id, text: localName(d) }));
          if (suggestion) select.value = suggestion.department_id;
        });
      return h('label', {}, t('form.department'), select);
    }
    default:
      return null;
  }
}

async function bodyOf(form, action) {
  const data = new FormData(form);
  const body = {};
  if (data.has('reason')) body.reason = data.get('reason');
  if (data.has('note')) body.note = data.get('note');
  if (data.has('department')) body.department_id = data.get('department');
  if (data.has('passed')) body.passed = data.get('passed') === 'true';
  if (data.has('satisfaction')) body.satisfaction = Number(data.get('satisfaction'));
  if (data.has('target')) body.target_case_id = Number(data.get('target'));
  const files = form.querySelector('input[name=photos]')?.files || [];
  if (files.length) body.photo_ids = await Promise.all([...files].map((f) => upload(f, f.name)));
  if (action === 'handle' || action === 'verify') body.photo_ids = body.photo_ids || [];
  return body;
}

/** Buttons for the case's `allowed_actions` (the API decides who may do what). */
export function actionBar(kase, onDone, onError) {
  const bar = h('div', { class: 'actions' });
  const formBox = h('div', { class: 'action-form-box' });
  const run = async (action, body, button) => {
    button.disabled = true;
    try { onDone(await act(kase, action, body), action); } catch (err) { onError(err); button.disabled = false; }
  };
  for (const action of kase.allowed_actions) {
    const button = h('button', { type: 'button', class: `action ${action}`, dataset: { action }, text: t(`action.${action}`) });
    button.addEventListener('click', () => {
      const fields = FIELDS[action];
      if (!fields) { run(action, {}, button); return; }
      clear(formBox);
      const submit = h('button', { type: 'submit', class: 'primary', text: t('form.submit', { action: t(`action.${action}`) }) });
      const form = h('form', { class: 'action-form', dataset: { action } },
        h('h4', { text: t(`action.${action}`) }), fields.map((f) => field(f, kase)), submit);
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        submit.disabled = true;
        try { onDone(await act(kase, action, await bodyOf(form, action)), action); clear(formBox); } catch (err) {
          onError(err); submit.disabled = false;
        }
      });
      formBox.append(form);
    });
    bar.append(button);
  }
  return h('div', {}, bar, formBox);
}
