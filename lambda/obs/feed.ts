/**
 * The live feed: every delivery, skip and error of the poll cycle, as an in-process event
 * (`feed.on('entry', …)`). Nobody listens in Lambda (it costs nothing there); `npm start` prints it.
 */
import { EventEmitter } from 'node:events';
import type { FeedEntry } from '../domain/ports';

export const feed = new EventEmitter<{ entry: [FeedEntry] }>();
