// The landing page: the three apps and the API docs.
import { loadI18n, langSwitch } from '/shared/i18n.js';

await loadI18n();
langSwitch(document.getElementById('lang'));
