// The statechart the dashboard draws, laid out from the real job machine: every transition drawn
// and labelled with its events, no label on a state or on another label, opposite transitions
// between two states drawn apart.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeJobGraph } from '../machines/job-graph.js';
import { createJobMachine } from '../machines/job-machine.js';
import { type Box, layoutStatechart } from '../src/api/statechart-layout.js';

const graph = describeJobGraph(createJobMachine({ now: () => 0 }));
const layout = layoutStatechart(graph);

function overlaps(a: Box, b: Box): boolean {
  return Math.abs(a.x - b.x) * 2 < a.width + b.width && Math.abs(a.y - b.y) * 2 < a.height + b.height;
}

function inside(point: { x: number; y: number }, box: Box, slack = 2): boolean {
  return Math.abs(point.x - box.x) <= box.width / 2 + slack && Math.abs(point.y - box.y) <= box.height / 2 + slack;
}

test('every status is a state and every transition an edge labelled with its events', () => {
  assert.equal(layout.states.map((state) => state.status).sort(), [...graph.statuses].sort());
  assert.is(layout.edges.length, graph.transitions.length);
  for (const transition of graph.transitions) {
    const edge = layout.edges.find((e) => e.from === transition.from && e.to === transition.to);
    assert.ok(edge, `${transition.from}>${transition.to} drawn`);
    assert.equal(edge!.label, transition.events);
    assert.ok(edge!.points.length >= 2);
  }
});

test('no label covers a state or another label, and everything fits the picture', () => {
  const labels = layout.edges.map((edge) => ({ name: `${edge.from}>${edge.to}`, box: edge.labelBox }));
  for (const [i, a] of labels.entries()) {
    for (const state of layout.states) assert.not.ok(overlaps(a.box, state), `label ${a.name} covers state ${state.status}`);
    for (const b of labels.slice(i + 1)) assert.not.ok(overlaps(a.box, b.box), `labels ${a.name} and ${b.name} overlap`);
  }
  for (const box of [...layout.states, ...labels.map((label) => label.box)]) {
    assert.ok(box.x - box.width / 2 >= 0 && box.x + box.width / 2 <= layout.width, 'inside the width');
    assert.ok(box.y - box.height / 2 >= 0 && box.y + box.height / 2 <= layout.height, 'inside the height');
  }
});

test('edges run from their state to their state, and a back edge never retraces the forward one', () => {
  const stateOf = (status: string) => layout.states.find((state) => state.status === status)!;
  for (const edge of layout.edges) {
    assert.ok(inside(edge.points[0]!, stateOf(edge.from)), `${edge.from}>${edge.to} starts at ${edge.from}`);
    assert.ok(inside(edge.points.at(-1)!, stateOf(edge.to)), `${edge.from}>${edge.to} ends at ${edge.to}`);
  }
  for (const edge of layout.edges) {
    const back = layout.edges.find((other) => other.from === edge.to && other.to === edge.from);
    if (!back) continue;
    const middle = (points: { x: number; y: number }[]) => points.slice(1, -1);
    for (const point of middle(edge.points)) {
      assert.ok(middle(back.points).every((other) => Math.hypot(other.x - point.x, other.y - point.y) > 10), `${edge.from}<>${edge.to} drawn apart`);
    }
    assert.not.ok(overlaps(edge.labelBox, back.labelBox));
  }
});

test.run();
