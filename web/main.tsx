import { render } from 'preact';
import { App } from './app.js';
import './styles.css';

const root = document.getElementById('app');
// The server says, in the page it served, whether the request carried the token: an
// unauthorized page explains itself without a request that would only be refused.
if (root !== null) render(<App authorized={document.documentElement.dataset.authorized === 'yes'} />, root);
