/* agentask.c: one question to the agent, whatever is asked (a module's
 * entry, a model's template): run the command on the prompt, take the JSON
 * answer out of what it printed, let the caller check (and keep) it, and
 * when the check refuses it ask again with the refusal appended, a bounded
 * number of times.  A failure leaves a diagnostics file; a success removes
 * the one an earlier failure left. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lmp.h"

#define DIAG_MAX 65536
#define ANSWER_QUOTE 16384 /* bytes of a refused answer quoted back to the agent */

void
lmp_fill_template(lmp_buf *out, const char *tmpl, const char *const *keys, const char *const *vals, int n)
{
	const char *p = tmpl;

	while (*p) {
		int i;
		for (i = 0; i < n; i++) {
			size_t k = strlen(keys[i]);
			if (!strncmp(p, keys[i], k)) {
				lmp_buf_puts(out, vals[i]);
				p += k;
				break;
			}
		}
		if (i == n)
			lmp_buf_putc(out, *p++);
	}
}

/* The text between a ```json fence and the next ```, else from the first
 * '{' to the last '}'. */
static cJSON *
json_in_text(const char *text, lmp_err *e)
{
	const char *a = strstr(text, "```json"), *b;

	if (a) {
		a += 7;
		b = strstr(a, "```");
		if (!b)
			return lmp_fail(e, LMP_EXIT_AGENT, "an unterminated ```json block"), NULL;
	} else {
		a = strchr(text, '{');
		b = strrchr(text, '}');
		if (!a || !b || b < a)
			return lmp_fail(e, LMP_EXIT_AGENT, "no JSON object in the answer"), NULL;
		b++;
	}
	return lmp_json_parse_one(a, (size_t)(b - a), "answer", e);
}

/* Claude Code's result event: the object itself, or the last event of
 * type "result" in the array it prints under --verbose; NULL if doc is
 * neither. */
static const cJSON *
result_event(const cJSON *doc)
{
	const cJSON *ev, *found = NULL;

	if (cJSON_IsObject(doc)) {
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(doc, "type");
		/* an envelope, not an answer that happens to hold "result" */
		if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "result")) &&
		    !cJSON_GetObjectItemCaseSensitive(doc, "full_class_name"))
			return doc;
		if (cJSON_IsString(type) && !strcmp(type->valuestring, "result") &&
		    cJSON_GetObjectItemCaseSensitive(doc, "is_error"))
			return doc;
		return NULL;
	}
	cJSON_ArrayForEach(ev, doc) {
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
		if (cJSON_IsString(type) && !strcmp(type->valuestring, "result"))
			found = ev;
	}
	return found;
}

/* The answer in out; *agent_error when the agent itself reported an error. */
static cJSON *
answer_of(const lmp_buf *out, int *agent_error, lmp_err *e)
{
	lmp_err ignore;
	cJSON *doc = lmp_json_parse_one(out->s, out->len, "answer", &ignore), *inner;
	const cJSON *ev, *res;

	if (!doc) {
		if (!(doc = json_in_text(out->s, e)))
			return NULL;
	}
	if (cJSON_IsArray(doc) && !(ev = result_event(doc))) {
		cJSON_Delete(doc);
		return lmp_fail(e, LMP_EXIT_AGENT, "the agent's array of events holds no \"result\" event"), NULL;
	}
	if (!(ev = result_event(doc)))
		return doc;
	res = cJSON_GetObjectItemCaseSensitive(ev, "result");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "is_error")) || !cJSON_IsString(res)) {
		const cJSON *sub = cJSON_GetObjectItemCaseSensitive(ev, "subtype");
		const char *text = cJSON_IsString(res) ? res->valuestring
				 : cJSON_IsString(sub) ? sub->valuestring : "(no text)";
		char said[200];
		lmp_escape(said, sizeof said, text, strlen(text));
		lmp_fail(e, LMP_EXIT_AGENT, "the agent reported an error: %s", said);
		*agent_error = 1;
		cJSON_Delete(doc);
		return NULL;
	}
	inner = json_in_text(res->valuestring, e);
	cJSON_Delete(doc);
	return inner;
}

cJSON *
lmp_agent_answer(const lmp_buf *out, lmp_err *e)
{
	int agent_error = 0;

	return answer_of(out, &agent_error, e);
}

/* The diagnostics file, written atomically: the question, the run, why. */
static void
diagnose(const lmp_ask *a, const lmp_run *r, const char *why)
{
	cJSON *d = cJSON_CreateObject();
	char today[11], *text;
	lmp_err e;

	lmp_today(today);
	cJSON_AddStringToObject(d, a->diag_key, a->what);
	cJSON_AddStringToObject(d, "date", today);
	cJSON_AddStringToObject(d, "command", a->agent);
	cJSON_AddStringToObject(d, "reason", why);
	{
		lmp_num n = lmp_num_int(a->tries);
		cJSON_AddItemToObject(d, "tries", lmp_json_new_num(&n));
	}
	if (r) {
		lmp_num n = lmp_num_int(r->status);
		cJSON_AddItemToObject(d, "exit_status", lmp_json_new_num(&n));
		n = lmp_num_int(r->signal);
		cJSON_AddItemToObject(d, "signal", lmp_json_new_num(&n));
		cJSON_AddBoolToObject(d, "timed_out", r->timed_out);
		lmp_num_double(r->seconds, &n);
		cJSON_AddItemToObject(d, "duration_s", lmp_json_new_num(&n));
		/* Bounded, and cut at a character boundary so the file stays UTF-8. */
		char *so = lmp_xstrndup(r->out.s, r->out.len < DIAG_MAX ? r->out.len : DIAG_MAX);
		char *se = lmp_xstrndup(r->err.s, r->err.len < DIAG_MAX ? r->err.len : DIAG_MAX);
		for (char *p = so; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		for (char *p = se; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		cJSON_AddStringToObject(d, "stdout", so);
		cJSON_AddStringToObject(d, "stderr", se);
		cJSON_AddBoolToObject(d, "stdout_truncated", r->out.len > DIAG_MAX || r->out_truncated);
		cJSON_AddBoolToObject(d, "stderr_truncated", r->err.len > DIAG_MAX || r->err_truncated);
		free(so);
		free(se);
	}
	text = lmp_json_print(d, 1);
	lmp_write_atomic(a->diag_path, text, strlen(text), &e);
	free(text);
	cJSON_Delete(d);
}

static int
said(const lmp_run *r, const char *text)
{
	return (r->err.s && strstr(r->err.s, text)) || (r->out.s && strstr(r->out.s, text));
}

/* The run's failure as a command, or 0 when it printed an answer to read. */
static int
run_failed(const lmp_ask *a, const lmp_run *r, lmp_err *e)
{
	if (r->status == 127) {
		/* sh's own "NAME: not found" (bash: "command not found"): the
		 * command, not its answer, is wrong */
		const char *cmd = a->agent + strspn(a->agent, " \t");
		size_t n = strcspn(cmd, " \t");
		char name[200], *raw = lmp_xstrndup(cmd, n), pat[300];
		int missing;
		snprintf(pat, sizeof pat, "%s: not found", raw);
		missing = strstr(r->err.s, pat) != NULL;
		snprintf(pat, sizeof pat, "%s: command not found", raw);
		missing |= strstr(r->err.s, pat) != NULL;
		snprintf(pat, sizeof pat, "%s: No such file", raw);
		missing |= strstr(r->err.s, pat) != NULL;
		free(raw);
		lmp_escape(name, sizeof name, cmd, n);
		if (missing)
			return lmp_fail(e, LMP_EXIT_AGENT,
				"the agent command '%s' was not found (name another with --agent or LMP_AGENT)", name);
	}
	if (r->status != 0 && said(r, "cannot be used with root/sudo privileges"))
		return lmp_fail(e, LMP_EXIT_AGENT, "Claude Code refuses --dangerously-skip-permissions as root unless "
			"IS_SANDBOX=1 declares a sandbox: run as another user, set IS_SANDBOX=1 yourself if this is "
			"a sandbox, or name another command with --agent or LMP_AGENT");
	if (r->timed_out)
		return lmp_fail(e, LMP_EXIT_AGENT, "the agent did not answer within %g s (killed)", a->timeout);
	if (r->signal)
		return lmp_fail(e, LMP_EXIT_AGENT, "the agent was killed by signal %d", r->signal);
	if (r->status != 0)
		return lmp_fail(e, LMP_EXIT_AGENT, "the agent exited with status %d", r->status);
	if (r->out.len == 0)
		return lmp_fail(e, LMP_EXIT_AGENT, "the agent answered nothing");
	if (r->out_truncated)
		return lmp_fail(e, LMP_EXIT_AGENT, "the answer is longer than %d bytes", LMP_RUN_MAX);
	return 0;
}

/* The prompt of the next try: the question, then the refusal of the
 * answer it got (bounded: an answer may be megabytes). */
static char *
ask_again(const char *prompt, const lmp_run *r, const cJSON *answer, const lmp_err *why)
{
	lmp_buf b = {0}, said = {0};
	size_t n;

	/* the answer as read (out of an envelope), else what it printed */
	if (answer)
		lmp_json_print_buf(answer, 1, &said);
	else
		lmp_buf_add(&said, r->out.s, r->out.len);
	n = said.len < ANSWER_QUOTE ? said.len : ANSWER_QUOTE;
	lmp_buf_puts(&b, prompt);
	lmp_buf_puts(&b, "\n\n## Your previous answer was refused\n\nThe check said:\n\n    ");
	lmp_buf_puts(&b, why->msg);
	lmp_buf_puts(&b, "\n\nYou answered");
	if (n < said.len)
		lmp_buf_printf(&b, " (its first %zu bytes)", n);
	lmp_buf_puts(&b, ":\n\n~~~~\n");
	lmp_buf_add(&b, said.s, n);
	lmp_buf_puts(&b, "\n~~~~\n\nFix what the check names and answer again with the whole JSON object, "
		"as asked above.\n");
	lmp_buf_free(&said);
	return b.s;
}

int
lmp_agent_ask(lmp_ask *a, const char *prompt, lmp_err *e)
{
	char *again = NULL;
	int rc = -1;

	for (a->tries = 1;; a->tries++) {
		lmp_run r;
		cJSON *answer = NULL;
		int retry = 0, agent_error = 0;
		char what[160];
		snprintf(what, sizeof what, "waiting for the agent's answer on %.100s, try %d", a->what ? a->what : "?",
			a->tries);
		if (lmp_run_command(a->agent, again ? again : prompt, strlen(again ? again : prompt), a->timeout,
			a->quiet ? NULL : what, &r, e))
			break;
		if (r.interrupted) {
			/* The agent's group is gone and nothing was stored: stop as
			 * the signal would have stopped us, so the caller sees it. */
			int sig = r.interrupted;
			lmp_run_free(&r);
			signal(sig, SIG_DFL);
			raise(sig);
			_exit(128 + sig);
		}
		rc = run_failed(a, &r, e);
		if (!rc && !(answer = answer_of(&r.out, &agent_error, e))) {
			rc = -1;
			retry = !agent_error;
		}
		if (!rc && (rc = a->check(answer, a->ctx, e)))
			retry = rc == -1;
		if (rc) {
			/* The message may quote the answer anywhere (a formula, a
			 * key, a name): one line, and nothing a terminal would act on. */
			char safe[sizeof e->msg];
			lmp_escape(safe, sizeof safe, e->msg, strlen(e->msg));
			memcpy(e->msg, safe, sizeof safe);
			if (e->status == LMP_EXIT_INPUT)
				e->status = LMP_EXIT_AGENT;
			rc = -1;
		}
		if (rc && retry && a->tries <= a->retries) {
			char *next = ask_again(prompt, &r, answer, e);
			if (a->refused)
				a->refused(a, e);
			free(again);
			again = next;
			cJSON_Delete(answer);
			lmp_run_free(&r);
			continue;
		}
		/* a diagnostics file says why the last attempt failed: gone
		 * once one succeeds */
		if (rc && a->diag_path)
			diagnose(a, &r, e->msg);
		else if (a->diag_path)
			unlink(a->diag_path);
		cJSON_Delete(answer);
		lmp_run_free(&r);
		break;
	}
	free(again);
	return rc;
}
