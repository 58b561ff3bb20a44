// Entry point: mounts the lesson page.
import { render } from 'preact';
import { LessonPage } from './lesson-page.jsx';
import './styles.css';

render(<LessonPage />, document.getElementById('app'));
