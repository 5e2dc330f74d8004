import { type FormEvent, useId, useState } from 'react';
import { Button, FieldError, Form, Input, Label, Text, TextField } from 'react-aria-components';
import { describeError, encodePath } from '../api.js';
import { DATA_CLASSES } from '../data-classes.js';
import { useApi } from '../session-context.js';
import { ErrorMessage, StatusMessage } from './messages.js';

/**
 * Sets or removes a secret's data class (`custom_metadata.data_class`) with a merge patch, so
 * the secret's other labels stay as they are. The five classes are offered (a datalist: no
 * popover to trap focus); anything typed is sent as it is and the server judges it (any case is one class; anything else is a 400 whose
 * message is shown).
 *
 * @example
 * ```tsx
 * <ClassEditor mount="secret" path="care/patients" current="PHI" onSaved={metadata.reload} />
 * ```
 */
export function ClassEditor({
  mount,
  path,
  current,
  onSaved,
}: {
  readonly mount: string;
  readonly path: string;
  readonly current: string | undefined;
  readonly onSaved: () => void;
}) {
  const api = useApi();
  const listId = useId();
  const [value, setValue] = useState(current ?? '');
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string>();
  const [error, setError] = useState<string>();
  const target = `${encodeURIComponent(mount)}/metadata/${encodePath(path)}`;

  const save = async (dataClass: string | null) => {
    setNote(undefined);
    setError(undefined);
    setBusy(true);
    try {
      await api.patch(target, { custom_metadata: { data_class: dataClass } });
      setNote(
        dataClass === null
          ? `Removed the data class of ${mount}/${path}.`
          : `Saved the data class of ${mount}/${path}.`,
      );
      if (dataClass === null) setValue('');
      onSaved();
    } catch (err) {
      setError(
        describeError(
          err,
          `${dataClass === null ? 'remove' : 'set'} the data class of ${mount}/${path}`,
        ),
      );
    } finally {
      setBusy(false);
    }
  };

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    void save(value);
  };

  return (
    <Form onSubmit={submit} className="class-editor">
      <TextField value={value} onChange={setValue} isRequired autoComplete="off">
        <Label>Data class</Label>
        <Input
          spellCheck={false}
          list={`${listId}-classes`}
          className="react-aria-Input class-input"
        />
        <Text slot="description" className="note">
          One of {DATA_CLASSES.join(', ')} (any case).
        </Text>
        <FieldError />
      </TextField>
      <datalist id={`${listId}-classes`}>
        {DATA_CLASSES.map((c) => (
          <option key={c} value={c} />
        ))}
      </datalist>
      <div className="actions">
        <Button type="submit" isPending={busy}>
          Save data class
        </Button>
        {current !== undefined && (
          <Button className="react-aria-Button quiet" isDisabled={busy} onPress={() => save(null)}>
            Remove data class
          </Button>
        )}
      </div>
      {note !== undefined && <StatusMessage>{note}</StatusMessage>}
      {error !== undefined && <ErrorMessage>{error}</ErrorMessage>}
    </Form>
  );
}
