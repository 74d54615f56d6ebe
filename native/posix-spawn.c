// Starting a job's process with posix_spawn instead of fork, on pipes or in a terminal. libuv
// (child_process.spawn) and node-pty fork: the kernel copies the daemon's page tables (a hundred MB
// and more), and the daemon pays a copy-on-write fault for every page it touches until the child
// has exec'd. glibc's posix_spawn clones with CLONE_VM | CLONE_VFORK: nothing is copied, and the
// wait is the few hundred microseconds the child takes to reach exec. Linux and glibc 2.34 or
// later (closefrom). Exits are told by SIGCHLD and read here with waitpid on each pid, as libuv and
// node-pty read their own children's: never waitpid(-1), which would take theirs.
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <node_api.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static napi_value throw_errno(napi_env env, const char *call, int err) {
  char text[256];
  snprintf(text, sizeof text, "%s: %s", call, strerror(err));
  napi_value message, code, error;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, NULL, message, &error);
  napi_create_int32(env, err, &code);
  napi_set_named_property(env, error, "errno", code);
  napi_throw(env, error);
  return NULL;
}

// A JS string as a C string (the caller frees it); NULL when it is not a string.
static char *c_string(napi_env env, napi_value value) {
  size_t length;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) return NULL;
  char *text = malloc(length + 1);
  if (text != NULL) napi_get_value_string_utf8(env, value, text, length + 1, &length);
  return text;
}

static void free_strings(char **strings) {
  if (strings == NULL) return;
  for (char **at = strings; *at != NULL; at++) free(*at);
  free(strings);
}

// A JS array of strings as a NULL-ended C array; NULL when it is not one.
static char **c_strings(napi_env env, napi_value array) {
  uint32_t count;
  if (napi_get_array_length(env, array, &count) != napi_ok) return NULL;
  char **strings = calloc(count + 1, sizeof(char *));
  if (strings == NULL) return NULL;
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    napi_get_element(env, array, i, &element);
    if ((strings[i] = c_string(env, element)) == NULL) {
      free_strings(strings);
      return NULL;
    }
  }
  return strings;
}

// [first, second], as the JS side takes two values back.
static napi_value pair_of(napi_env env, napi_value first, napi_value second) {
  napi_value pair;
  napi_create_array_with_length(env, 2, &pair);
  napi_set_element(env, pair, 0, first);
  napi_set_element(env, pair, 1, second);
  return pair;
}

// pipe(): [readEnd, writeEnd], both close-on-exec (the child gets its end by dup2, which clears it).
static napi_value Pipe(napi_env env, napi_callback_info info) {
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) return throw_errno(env, "pipe2", errno);
  napi_value read_end, write_end;
  napi_create_int32(env, ends[0], &read_end);
  napi_create_int32(env, ends[1], &write_end);
  return pair_of(env, read_end, write_end);
}

// The program to start: the first four arguments of spawn() and spawnInTerminal().
struct command {
  char *path;
  char **args;
  char **envp;
  char *cwd;
};

static void free_command(struct command *command) {
  free(command->path);
  free_strings(command->args);
  free_strings(command->envp);
  free(command->cwd);
}

// path, argv, envp, cwd from `values`; false (a TypeError thrown, nothing held) when one is not a
// string or an array of strings.
static bool read_command(napi_env env, napi_value *values, const char *call, struct command *command) {
  command->path = c_string(env, values[0]);
  command->args = c_strings(env, values[1]);
  command->envp = c_strings(env, values[2]);
  command->cwd = c_string(env, values[3]);
  if (command->path != NULL && command->args != NULL && command->envp != NULL && command->cwd != NULL) return true;
  free_command(command);
  char text[64];
  snprintf(text, sizeof text, "%s: expected strings", call);
  napi_throw_type_error(env, NULL, text);
  return false;
}

// Starts the command after `actions` (its stdin, stdout and stderr), in its folder, with no other
// descriptor, leading a session of its own (as detached: true), every signal at its default and
// none blocked (the daemon ignores SIGPIPE; an encoder must not inherit that). 0 or an errno.
static int spawn_command(const struct command *command, posix_spawn_file_actions_t *actions, pid_t *pid) {
  posix_spawn_file_actions_addchdir_np(actions, command->cwd);
  posix_spawn_file_actions_addclosefrom_np(actions, 3);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  int err = posix_spawn(pid, command->path, actions, &attributes, command->args, command->envp);
  posix_spawnattr_destroy(&attributes);
  return err;
}

// spawn(path, argv, envp, cwd, stdinFd, stdoutFd, stderrFd): the pid, started by spawn_command
// with the three descriptors as its stdin, stdout and stderr.
static napi_value Spawn(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 7) {
    napi_throw_type_error(env, NULL, "spawn(path, argv, envp, cwd, stdin, stdout, stderr)");
    return NULL;
  }
  int fds[3];
  for (int i = 0; i < 3; i++) {
    if (napi_get_value_int32(env, argv[4 + i], &fds[i]) != napi_ok) {
      napi_throw_type_error(env, NULL, "spawn: a descriptor is not a number");
      return NULL;
    }
  }
  struct command command;
  if (!read_command(env, argv, "spawn", &command)) return NULL;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int i = 0; i < 3; i++) posix_spawn_file_actions_adddup2(&actions, fds[i], i);
  pid_t pid;
  int err = spawn_command(&command, &actions, &pid);
  posix_spawn_file_actions_destroy(&actions);
  free_command(&command);
  if (err != 0) return throw_errno(env, "posix_spawn", err);
  napi_value result;
  napi_create_int32(env, pid, &result);
  return result;
}

// The control characters of node-pty's terminals (^D, ^?, ^W, ^U, ^R, ^C, ^\, ^Z, ^Q, ^S, ^V, ^O).
static const struct {
  int index;
  cc_t value;
} CONTROL_CHARACTERS[] = {
    {VEOF, 4}, {VEOL, (cc_t)-1}, {VEOL2, (cc_t)-1}, {VERASE, 0x7f}, {VWERASE, 23}, {VKILL, 21}, {VREPRINT, 18}, {VINTR, 3},
    {VQUIT, 0x1c}, {VSUSP, 26}, {VSTART, 17}, {VSTOP, 19}, {VLNEXT, 22}, {VDISCARD, 15}, {VMIN, 1}, {VTIME, 0},
};

// The terminal's settings, as node-pty gives its own (a line discipline as an interactive shell's).
static void terminal_settings(struct termios *t) {
  memset(t, 0, sizeof *t);
  t->c_iflag = ICRNL | IXON | IXANY | IMAXBEL | BRKINT | IUTF8;
  t->c_oflag = OPOST | ONLCR;
  t->c_cflag = CREAD | CS8 | HUPCL;
  t->c_lflag = ICANON | ISIG | IEXTEN | ECHO | ECHOE | ECHOK | ECHOKE | ECHOCTL;
  for (size_t i = 0; i < sizeof CONTROL_CHARACTERS / sizeof CONTROL_CHARACTERS[0]; i++) t->c_cc[CONTROL_CHARACTERS[i].index] = CONTROL_CHARACTERS[i].value;
  cfsetispeed(t, B38400);
  cfsetospeed(t, B38400);
}

// spawnInTerminal(path, argv, envp, cwd, columns, rows): [pid, master, holder]. A new terminal,
// and the program in it, started by spawn_command with the terminal as its stdin, stdout, stderr
// and controlling terminal: glibc's child makes its session before the file actions, so the open
// of the terminal's name (without O_NOCTTY) makes it the new session's controlling terminal, as
// forkpty's TIOCSCTTY does. `holder` is the program's side, open here too (close-on-exec, as is
// the master), so that what the program prints is not dropped when it exits (see pty.ts).
static napi_value SpawnInTerminal(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int columns, rows;
  if (argc != 6 || napi_get_value_int32(env, argv[4], &columns) != napi_ok || napi_get_value_int32(env, argv[5], &rows) != napi_ok || columns <= 0 || rows <= 0) {
    napi_throw_type_error(env, NULL, "spawnInTerminal(path, argv, envp, cwd, columns, rows)");
    return NULL;
  }
  struct command command;
  if (!read_command(env, argv, "spawnInTerminal", &command)) return NULL;
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) {
    free_command(&command);
    return throw_errno(env, "posix_openpt", errno);
  }
  char name[128];
  int holder = -1;
  int err = 0;
  const char *call = NULL;
  if (grantpt(master) != 0 || unlockpt(master) != 0) call = "unlockpt", err = errno;
  else if ((err = ptsname_r(master, name, sizeof name)) != 0) call = "ptsname_r";
  else if ((holder = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) call = "open", err = errno;
  if (call == NULL) {
    struct termios settings;
    struct winsize size = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)columns};
    terminal_settings(&settings);
    if (tcsetattr(holder, TCSANOW, &settings) != 0) call = "tcsetattr", err = errno;
    else if (ioctl(holder, TIOCSWINSZ, &size) != 0) call = "TIOCSWINSZ", err = errno;
  }
  pid_t pid;
  if (call == NULL) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, name, O_RDWR, 0);
    posix_spawn_file_actions_adddup2(&actions, 0, 1);
    posix_spawn_file_actions_adddup2(&actions, 0, 2);
    if ((err = spawn_command(&command, &actions, &pid)) != 0) call = "posix_spawn";
    posix_spawn_file_actions_destroy(&actions);
  }
  free_command(&command);
  if (call != NULL) {
    if (holder >= 0) close(holder);
    close(master);
    return throw_errno(env, call, err);
  }
  napi_value result, values[3];
  napi_create_int32(env, pid, &values[0]);
  napi_create_int32(env, master, &values[1]);
  napi_create_int32(env, holder, &values[2]);
  napi_create_array_with_length(env, 3, &result);
  for (uint32_t i = 0; i < 3; i++) napi_set_element(env, result, i, values[i]);
  return result;
}

// reap(pid): null while it runs; [exitCode, null] or [null, signalNumber] once it has ended (and
// is reaped); throws when it is no child of this process (ECHILD).
static napi_value Reap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], nothing;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int pid, status;
  if (argc != 1 || napi_get_value_int32(env, argv[0], &pid) != napi_ok || pid <= 0) {
    napi_throw_type_error(env, NULL, "reap(pid)");
    return NULL;
  }
  pid_t found;
  do found = waitpid(pid, &status, WNOHANG);
  while (found < 0 && errno == EINTR);
  napi_get_null(env, &nothing);
  if (found == 0) return nothing;
  if (found < 0) return throw_errno(env, "waitpid", errno);
  napi_value code = nothing, signal = nothing;
  if (WIFEXITED(status)) napi_create_int32(env, WEXITSTATUS(status), &code);
  else napi_create_int32(env, WTERMSIG(status), &signal);
  return pair_of(env, code, signal);
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
      {"pipe", NULL, Pipe, NULL, NULL, NULL, napi_default, NULL},
      {"spawn", NULL, Spawn, NULL, NULL, NULL, napi_default, NULL},
      {"spawnInTerminal", NULL, SpawnInTerminal, NULL, NULL, NULL, napi_default, NULL},
      {"reap", NULL, Reap, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
