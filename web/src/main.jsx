// Entry point: mounts the page.
import { render } from 'preact';
import { Page } from './page.jsx';
import './styles.css';

render(<Page />, document.getElementById('app'));
