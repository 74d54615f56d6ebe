// Where the dashboard draws the job statechart: each status a box, each transition a routed edge
// with its events as a label. dagre lays the graph out in ranks and routes every edge, the back
// edges (a retry, an interruption) included, as its own path, with its label placed as a node of
// its own, so no label sits on another label, on a state, or on an edge it does not belong to.
// Pure: the same graph gives the same picture, computed once at start.
import dagre from '@dagrejs/dagre';
import type { JobGraph } from '../../machines/job-graph.js';
import type { JobStatus } from '../../machines/job-record.js';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface StateBox extends Box {
  status: JobStatus;
}

export interface EdgeRoute {
  from: JobStatus;
  to: JobStatus;
  /** One line per event that makes the transition. */
  label: string[];
  /** The label's box, centred on (x, y). */
  labelBox: Box;
  points: { x: number; y: number }[];
}

export interface StatechartLayout {
  width: number;
  height: number;
  states: StateBox[];
  edges: EdgeRoute[];
}

// The page draws labels at 11 px in the system font: about 6.5 px a character, 13 px a line.
const CHAR_WIDTH = 6.5;
const LINE_HEIGHT = 13;
const STATE_WIDTH = 110;
const STATE_HEIGHT = 34;
const MARGIN = 12;

export function layoutStatechart(graph: JobGraph): StatechartLayout {
  const g = new dagre.graphlib.Graph({ directed: true, multigraph: false });
  g.setGraph({ rankdir: 'LR', nodesep: 30, ranksep: 70, edgesep: 16, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));
  for (const status of graph.statuses) g.setNode(status, { width: STATE_WIDTH, height: STATE_HEIGHT });
  for (const { from, to, events } of graph.transitions) {
    g.setEdge(from, to, {
      width: Math.max(...events.map((event) => event.length)) * CHAR_WIDTH + 6,
      height: events.length * LINE_HEIGHT + 4,
      labelpos: 'c',
    });
  }
  dagre.layout(g);
  const round = (value: number) => Math.round(value * 10) / 10;
  const states = graph.statuses.map((status) => {
    const node = g.node(status);
    return { status, x: round(node.x), y: round(node.y), width: STATE_WIDTH, height: STATE_HEIGHT };
  });
  const edges = graph.transitions.map(({ from, to, events }) => {
    const edge = g.edge(from, to) as { x: number; y: number; width: number; height: number; points: { x: number; y: number }[] };
    return {
      from,
      to,
      label: events,
      labelBox: { x: round(edge.x), y: round(edge.y), width: round(edge.width), height: round(edge.height) },
      points: edge.points.map((point) => ({ x: round(point.x), y: round(point.y) })),
    };
  });
  const { width = 0, height = 0 } = g.graph();
  return { width: Math.ceil(width), height: Math.ceil(height), states, edges };
}
