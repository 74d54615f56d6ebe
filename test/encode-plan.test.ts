// What a command will encode, read before it runs: passes, their weights, and the output's length.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { adjustPlan, planOf, shellCommands } from '../src/progress/encode-plan.js';

const ffmpeg = (...args: string[]) => ['ffmpeg', '-hide_banner', ...args];

test('one plain encode: one pass, the output as long as the input', () => {
  const plan = planOf(ffmpeg('-i', 'in.mp4', '-c:v', 'libx264', 'out.mp4'), false);
  assert.equal([plan.passes, plan.passWeights, plan.timeBasis], [1, [1], false]);
  assert.is(plan.outputDuration([30]), 30);
});

test('two ffmpeg runs in one shell line are two passes, the first weighing less', () => {
  const line = "ffmpeg -y -i 'my clip.mp4' -c:v libx264 -b:v 1M -pass 1 -an -f null /dev/null && ffmpeg -i 'my clip.mp4' -c:v libx264 -b:v 1M -pass 2 out.mp4";
  const plan = planOf([line], true);
  assert.is(plan.passes, 2);
  assert.equal(plan.passWeights.map((weight) => Math.round(weight * 100)), [33, 67]);
  assert.equal(shellCommands(line)[0]!.slice(0, 4), ['ffmpeg', '-y', '-i', 'my clip.mp4']);
  assert.is(planOf(['SvtAv1EncApp', '-i', 'in.y4m', '--passes', '2', '-b', 'out.ivf'], false).passes, 2);
  assert.is(planOf(['x264 --pass 1 -o /dev/null in.y4m; x264 --pass 2 -o out.mkv in.y4m'], true).passes, 2);
});

test('trims before and after -i, -to, setpts and concat give the output length', () => {
  assert.is(planOf(ffmpeg('-ss', '5', '-t', '10', '-i', 'in.mp4', 'out.mp4'), false).outputDuration([30]), 10);
  assert.is(planOf(ffmpeg('-i', 'in.mp4', '-ss', '5', '-t', '10', 'out.mp4'), false).outputDuration([30]), 10);
  assert.is(planOf(ffmpeg('-i', 'in.mp4', '-ss', '00:00:20', 'out.mp4'), false).outputDuration([30]), 10);
  assert.is(planOf(ffmpeg('-ss', '5', '-to', '12', '-i', 'in.mp4', 'out.mp4'), false).outputDuration([30]), 7);
  assert.is(planOf(ffmpeg('-i', 'in.mp4', '-t', '60', 'out.mp4'), false).outputDuration([30]), 30, 'a limit past the end changes nothing');
  assert.is(planOf(ffmpeg('-i', 'in.mp4', '-vf', 'setpts=0.5*PTS', 'out.mp4'), false).outputDuration([30]), 15);
  assert.is(planOf(ffmpeg('-i', 'in.mp4', '-vf', 'setpts=PTS/4', 'out.mp4'), false).outputDuration([30]), 7.5);
  const concat = planOf(ffmpeg('-i', 'a.mp4', '-i', 'b.mp4', '-i', 'c.mp4', '-filter_complex', '[0:v][1:v][2:v]concat=n=3:v=1:a=0[v]', '-map', '[v]', 'out.mp4'), false);
  assert.is(concat.outputDuration([10, 20, 30]), 60);
  assert.is(concat.timeBasis, false, 'the frames of the inputs add up');
  assert.is(planOf(ffmpeg('-i', 'in.mp4', '-vf', 'setpts=0.5*PTS', '-fps_mode', 'passthrough', 'out.mp4'), false).timeBasis, true, 'every frame kept in half the time: frames over a derived total would mislead');
  assert.is(planOf(ffmpeg('-i', 'in.mp4', '-frames:v', '100', 'out.mp4'), false).maxFrames, 100);
});

test('a trim filter in seconds is read as an input trim', () => {
  assert.is(planOf(ffmpeg('-i', 'in.mp4', '-vf', 'trim=start=3:end=9,setpts=PTS-STARTPTS', 'out.mp4'), false).outputDuration([30]), 6);
  assert.is(planOf(ffmpeg('-i', 'in.mp4', '-vf', 'trim=2:8', 'out.mp4'), false).outputDuration([30]), 6);
  assert.is(planOf(ffmpeg('-i', 'in.mp4', '-filter_complex', '[0:v]trim=duration=5[v];[0:a]atrim=duration=5[a]', 'out.mp4'), false).outputDuration([30]), 5);
  assert.is(planOf(ffmpeg('-i', 'in.mp4', '-vf', 'trim=start=25:end=40', 'out.mp4'), false).outputDuration([30]), 5, 'no longer than the input');
});

test('what a command cannot tell is unknown, not a guess', () => {
  assert.is(planOf(ffmpeg('-i', 'in.mp4', '-vf', 'trim=start_frame=10:end_frame=90', 'out.mp4'), false).outputDuration([30]), null);
  assert.is(planOf(ffmpeg('-i', 'in.mp4', '-vf', 'trim=3:9,loop=2', 'out.mp4'), false).outputDuration([30]), null);
  assert.is(planOf(ffmpeg('-stream_loop', '3', '-i', 'in.mp4', 'out.mp4'), false).outputDuration([30]), null);
  assert.is(planOf(ffmpeg('-i', 'in.mp4', 'out.mp4'), false).outputDuration([null]), null);
});


test('the output frame rate (-r after the inputs, fps=) counts the output frames; a select leaves them unknown', () => {
  assert.is(planOf(['ffmpeg', '-r', '10', '-i', 'a.mp4', '-r', '30000/1001', 'out.mp4'], false).outputFrameRate, 30000 / 1001);
  assert.is(planOf(['ffmpeg', '-i', 'a.mp4', '-vf', 'scale=640:-2,fps=fps=12', 'out.mp4'], false).outputFrameRate, 12);
  assert.is(planOf(['ffmpeg', '-i', 'a.mp4', '-r', 'ntsc', 'out.mp4'], false).outputFrameRate, null);
  const select = planOf(['ffmpeg', '-i', 'a.mp4', '-vf', "select='not(mod(n,3))'", 'out.mp4'], false);
  assert.equal([select.framesUnknown, select.timeBasis, select.outputDuration([9])], [true, true, 9]);
  // Retimed by frame number after a select: neither frames nor time can be known.
  assert.is(planOf(['ffmpeg', '-i', 'a.mp4', '-vf', "select='not(mod(n,3))',setpts=N/FRAME_RATE/TB", 'out.mp4'], false).outputDuration([9]), null);
});

test("a job's own passes win over the command, and a learned first-pass share over the default", () => {
  const plan = planOf(['ffmpeg', '-i', 'a.mp4', 'out.mp4'], false);
  assert.equal(adjustPlan(plan, 2, null).passWeights, [1 / 3, 2 / 3]);
  assert.equal(adjustPlan(plan, 3, 0.1).passWeights.map((weight) => Math.round(weight * 100)), [10, 45, 45]);
  assert.equal(adjustPlan(plan, null, 0.2).passWeights, [1]);
  const twoPass = planOf(['ffmpeg -pass 1 -i a.mp4 -f null - && ffmpeg -pass 2 -i a.mp4 out.mp4'], true);
  assert.equal(adjustPlan(twoPass, null, 0.25).passWeights, [0.25, 0.75]);
  assert.equal(adjustPlan(twoPass, null, 1.5).passWeights, twoPass.passWeights, 'a share that is no share is ignored');
});

test.run();
