// The sign-in page: POST /v1/auth/login sets the session cookie; then on to the console
// that fits the user's roles. A user who is already signed in goes there at once.

import { api, applyI18n, bindLangButton, homeFor, t } from './common.js';

const form = document.getElementById('login-form');
const username = document.getElementById('username');
const password = document.getElementById('password');
const submit = document.getElementById('login');
const errorBox = document.getElementById('login-error');

function showError(text) {
  errorBox.textContent = text;
  errorBox.hidden = !text;
}

function goHome(user) {
  const page = homeFor(user);
  if (!page) return showError(t('login.no_console'));
  location.replace(page);
}

async function alreadySignedIn() {
  try {
    const me = await api('GET', '/v1/me');
    goHome(me && me.user ? me.user : me);
  } catch {
    // 401: not signed in; stay on the form
  }
}

async function signIn(event) {
  event.preventDefault();
  showError('');
  submit.disabled = true;
  try {
    const body = await api('POST', '/v1/auth/login', { username: username.value.trim(), password: password.value });
    goHome(body.user);
  } catch (e) {
    showError(e.status ? e.message || t('login.failed') : t('login.network'));
    password.select();
  } finally {
    submit.disabled = false;
  }
}

applyI18n();
bindLangButton(document.getElementById('lang'));
form.addEventListener('submit', signIn);
alreadySignedIn();
