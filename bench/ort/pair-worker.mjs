// pair-worker.mjs: one of the two 1-thread Gradbox runtimes whose forwards run side by side
// for the scaling row's ideal (benchScaling in bench-core.mjs; gradboxScaling in
// contestants-node.mjs). workerData: {batch}. Each message runs an untimed forward, then a
// timed one, and answers its ms (timed here, so the messages' latency is not in it).
import { parentPort, workerData } from 'node:worker_threads';

import { makeInput } from './bench-core.mjs';
import { gradboxModel } from './contestants-node.mjs';

const { batch } = workerData;
const model = await gradboxModel('simd', 1);
const input = makeInput(batch);
const shape = [batch, 3, 224, 224];
parentPort.on('message', () => {
	model.forward(input, shape, 1000);
	const t = performance.now();
	model.forward(input, shape, 1000);
	parentPort.postMessage(performance.now() - t);
});
parentPort.postMessage('ready');
