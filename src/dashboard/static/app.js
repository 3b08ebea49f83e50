/** Entry: drops ?token= from the address bar (the server has set the cookie), then shows the page the path names. */
/* global document, window, URL */
import { showList } from './list.js';
import { showRollout } from './rollout.js';

const url = new URL(window.location.href);
if (url.searchParams.has('token')) {
  url.searchParams.delete('token');
  window.history.replaceState(null, '', url.pathname + url.search + url.hash);
}

const main = document.getElementById('main');
const status = document.getElementById('connection');
const match = /^\/rollouts\/([^/]+)$/.exec(url.pathname);
if (match) showRollout(main, status, decodeURIComponent(match[1]));
else showList(main, status);
