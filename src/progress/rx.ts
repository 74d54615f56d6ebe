// The RxJS parts encsup uses, each from its own module: the package's main entry loads all 224 of
// its modules (about 45 ms of every start and every CLI command that touches a job's progress);
// these load 60. `rxjs/internal/*` is a path the package exports.
export { Observable } from 'rxjs/internal/Observable';
export { ReplaySubject } from 'rxjs/internal/ReplaySubject';
export { from } from 'rxjs/internal/observable/from';
export { filter } from 'rxjs/internal/operators/filter';
export { distinctUntilChanged } from 'rxjs/internal/operators/distinctUntilChanged';
export { map } from 'rxjs/internal/operators/map';
export { mergeAll } from 'rxjs/internal/operators/mergeAll';
export { share } from 'rxjs/internal/operators/share';
export type { OperatorFunction } from 'rxjs/internal/types';
