/** @jsxImportSource preact */
import { RestError } from "@raptscallions/client";
import { type FormField, formInputSchema, type RunDto } from "@raptscallions/core";
import { useState } from "preact/hooks";
import { errorText, useSigned } from "../context.ts";

type Values = Record<string, string | boolean>;
type Errors = Record<string, string>;

/** The inputs as the server takes them: numbers as numbers, empty optional fields left out. */
function inputOf(form: readonly FormField[], values: Values): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const f of form) {
    const v = values[f.name];
    if (f.type === "boolean") input[f.name] = v === true;
    else if (typeof v === "string" && v.trim() !== "") input[f.name] = f.type === "number" ? Number(v) : v;
  }
  return input;
}

/** One message per field, from zod issues (client-side) or the server's 422 details (`input.<field>`). */
function byField(issues: { path: string; message: string }[]): { fields: Errors; other: string[] } {
  const fields: Errors = {};
  const other: string[] = [];
  for (const i of issues) {
    const name = i.path.startsWith("input.") ? i.path.slice("input.".length).split(".")[0] : i.path.split(".")[0];
    if (name && name !== "input" && !(name in fields)) fields[name] = i.message;
    else if (!name || name === "input") other.push(i.message);
  }
  return { fields, other };
}

/** A missing value reads better as "Required" than as zod's type complaint. */
function friendly(field: FormField | undefined, message: string, value: unknown): string {
  if (value === undefined && field?.required) return "Required";
  if (field?.type === "number" && typeof value === "number" && Number.isNaN(value)) return "Enter a number";
  return message;
}

/**
 * A product tool's form, rendered from its declared fields and checked before sending with the
 * same schema the server applies (`formInputSchema`); the server's 422 details land on their
 * fields too. Starting a run hands it to `onStarted`.
 */
export function RunForm(props: { toolId: string; toolName: string; form: FormField[]; classId: string | null; onStarted(run: RunDto): void }) {
  const { client } = useSigned();
  const [values, setValues] = useState<Values>({});
  const [errors, setErrors] = useState<Errors>({});
  const [other, setOther] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const fieldId = (name: string) => `field-${props.toolId}-${name}`;

  function show(fields: Errors, rest: string[]) {
    setErrors(fields);
    setOther(rest);
    const first = props.form.find((f) => fields[f.name]);
    if (first) document.getElementById(fieldId(first.name))?.focus();
  }

  async function submit(e: Event) {
    e.preventDefault();
    const input = inputOf(props.form, values);
    const checked = formInputSchema(props.form).safeParse(input);
    if (!checked.success) {
      const issues = checked.error.issues.map((i) => {
        const name = String(i.path[0] ?? "");
        return {
          path: name,
          message: friendly(
            props.form.find((f) => f.name === name),
            i.message,
            input[name],
          ),
        };
      });
      const { fields, other: rest } = byField(issues);
      return show(fields, rest);
    }
    show({}, []);
    setBusy(true);
    try {
      const { run } = await client.rest("startRun", { body: { toolId: props.toolId, input, ...(props.classId ? { classId: props.classId } : {}) } });
      props.onStarted(run);
    } catch (err) {
      if (err instanceof RestError && err.status === 422 && Array.isArray(err.details)) {
        const { fields, other: rest } = byField(err.details as { path: string; message: string }[]);
        show(fields, rest.length > 0 || Object.keys(fields).length > 0 ? rest : [err.message]);
      } else {
        show({}, [errorText(err)]);
      }
    } finally {
      setBusy(false);
    }
  }

  const set = (name: string, v: string | boolean) => setValues((old) => ({ ...old, [name]: v }));
  return (
    <form class="run-form" data-testid="run-form" onSubmit={(e) => void submit(e)} noValidate aria-label={`${props.toolName} form`}>
      {other.length > 0 ? (
        <div role="alert" data-testid="run-form-error">
          {other.map((m) => (
            <p key={m}>{m}</p>
          ))}
        </div>
      ) : null}
      {props.form.map((f) => {
        const id = fieldId(f.name);
        const error = errors[f.name];
        const common = {
          id,
          name: f.name,
          "aria-invalid": error ? ("true" as const) : undefined,
          "aria-describedby": error ? `${id}-error` : undefined,
          "data-testid": `run-field-${f.name}`,
        };
        const value = typeof values[f.name] === "string" ? (values[f.name] as string) : "";
        return (
          <div class={`form-field${error ? " invalid" : ""}`} key={f.name}>
            {f.type === "boolean" ? (
              <label for={id}>
                <input type="checkbox" {...common} checked={values[f.name] === true} onChange={(e) => set(f.name, e.currentTarget.checked)} /> {f.label}
              </label>
            ) : (
              <label for={id}>
                {f.label}
                {f.required ? <span aria-hidden="true"> *</span> : <span class="muted"> (optional)</span>}
              </label>
            )}
            {f.type === "text" && f.multiline ? (
              <textarea {...common} rows={4} maxLength={f.maxLength} required={f.required} value={value} onInput={(e) => set(f.name, e.currentTarget.value)} />
            ) : f.type === "text" ? (
              <input type="text" {...common} maxLength={f.maxLength} required={f.required} value={value} onInput={(e) => set(f.name, e.currentTarget.value)} />
            ) : f.type === "number" ? (
              <input
                type="number"
                inputMode={f.integer ? "numeric" : "decimal"}
                {...common}
                min={f.min}
                max={f.max}
                step={f.integer ? 1 : "any"}
                required={f.required}
                value={value}
                onInput={(e) => set(f.name, e.currentTarget.value)}
              />
            ) : f.type === "select" ? (
              <select {...common} required={f.required} value={value} onChange={(e) => set(f.name, e.currentTarget.value)}>
                <option value="">Choose…</option>
                {f.options.map((o) => (
                  <option key={o} value={o}>
                    {o}
                  </option>
                ))}
              </select>
            ) : null}
            {error ? (
              <p class="field-error" id={`${id}-error`} data-testid={`run-field-error-${f.name}`}>
                {error}
              </p>
            ) : null}
          </div>
        );
      })}
      <button type="submit" data-testid="run-start" disabled={busy}>
        {busy ? "Starting…" : `Run ${props.toolName}`}
      </button>
    </form>
  );
}
