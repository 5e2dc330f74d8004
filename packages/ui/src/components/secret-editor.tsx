import { type FormEvent, type ReactNode, useId, useState } from 'react';
import { Button, FieldError, Form, Input, Label, Switch, TextField } from 'react-aria-components';

interface Row {
  readonly id: number;
  readonly key: string;
  readonly text: string;
  /** The stored field this row edits: an empty text keeps its value (never shown here). */
  readonly storedKey?: string;
}

/**
 * Key/value rows of a new secret version. Stored values never enter the form (nor the page):
 * a field left empty keeps its stored value, typing replaces it, removing the row drops the
 * field. New values are typed into password fields unless "Show values" is on.
 */
export function SecretEditor({
  initial,
  onSave,
  submitLabel,
  children,
}: {
  /** The stored fields (their values are read only when saved, for fields left empty). */
  readonly initial: ReadonlyArray<readonly [string, unknown]>;
  readonly onSave: (data: Record<string, unknown>) => Promise<void>;
  readonly submitLabel: string;
  /** Fields shown above the rows (a new secret's name). */
  readonly children?: ReactNode;
}) {
  const idBase = useId();
  const [rows, setRows] = useState<Row[]>(() =>
    initial.length === 0
      ? [{ id: 0, key: '', text: '' }]
      : initial.map(([key], id) => ({ id, key, text: '', storedKey: key })),
  );
  const [nextId, setNextId] = useState(rows.length);
  const [show, setShow] = useState(false);
  const [busy, setBusy] = useState(false);

  const update = (id: number, change: Partial<Row>) =>
    setRows((all) => all.map((row) => (row.id === id ? { ...row, ...change } : row)));
  const keys = rows.map((row) => row.key);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const stored = new Map(initial);
    const data: Record<string, unknown> = {};
    // A stored field left empty keeps its value (under its new name, if renamed).
    for (const row of rows)
      data[row.key] =
        row.storedKey !== undefined && row.text === '' ? stored.get(row.storedKey) : row.text;
    setBusy(true);
    try {
      await onSave(data);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Form onSubmit={submit} className="editor">
      {children}
      <Switch isSelected={show} onChange={setShow}>
        <span className="switch-indicator" aria-hidden="true" />
        Show values
      </Switch>
      {rows.map((row, index) => (
        <fieldset key={row.id} className="editor-row">
          <legend className="visually-hidden">Field {index + 1}</legend>
          <TextField
            name={`${idBase}-key-${row.id}`}
            value={row.key}
            onChange={(key) => update(row.id, { key })}
            isRequired
            autoComplete="off"
            validate={(key) =>
              keys.filter((k) => k === key).length > 1 ? 'Each key may appear once.' : null
            }
          >
            <Label>Key</Label>
            <Input />
            <FieldError />
          </TextField>
          <TextField
            name={`${idBase}-value-${row.id}`}
            type={show ? 'text' : 'password'}
            value={row.text}
            onChange={(text) => update(row.id, { text })}
            autoComplete="off"
          >
            <Label>Value</Label>
            <Input
              spellCheck={false}
              placeholder={row.storedKey === undefined ? '' : 'unchanged (type to replace)'}
            />
          </TextField>
          <Button
            className="react-aria-Button quiet"
            aria-label={`Remove field ${row.key || index + 1}`}
            isDisabled={rows.length === 1}
            onPress={() => setRows((all) => all.filter((r) => r.id !== row.id))}
          >
            Remove
          </Button>
        </fieldset>
      ))}
      <div className="actions">
        <Button
          className="react-aria-Button quiet"
          onPress={() => {
            setRows((all) => [...all, { id: nextId, key: '', text: '' }]);
            setNextId((n) => n + 1);
          }}
        >
          Add field
        </Button>
        <Button type="submit" isPending={busy}>
          {submitLabel}
        </Button>
      </div>
    </Form>
  );
}
