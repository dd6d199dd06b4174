// The create / edit dialog of one Okta input.
import React, { useRef, useState } from 'react';
import Modal from '@splunk/react-ui/Modal';
import Button from '@splunk/react-ui/Button';
import ControlGroup from '@splunk/react-ui/ControlGroup';
import Text from '@splunk/react-ui/Text';
import TextArea from '@splunk/react-ui/TextArea';
import RadioBar from '@splunk/react-ui/RadioBar';
import Select from '@splunk/react-ui/Select';
import ComboBox from '@splunk/react-ui/ComboBox';
import Switch from '@splunk/react-ui/Switch';
import Message from '@splunk/react-ui/Message';
import CollapsiblePanel from '@splunk/react-ui/CollapsiblePanel';
import Heading from '@splunk/react-ui/Heading';
import WaitSpinner from '@splunk/react-ui/WaitSpinner';
import styled from 'styled-components';
import { variables } from '@splunk/themes';
import { FIELDS, GROUPS, check, changes, fromEntry, secretState, visible } from './fields.mjs';
import { createInput, editInput } from './api';

const Section = styled.section`
    margin: 0 0 12px;
    & + & > h4 {
        border-top: 1px solid ${variables.borderColor};
        padding-top: 12px;
    }
`;

const Mono = styled.div`
    textarea {
        font-family: 'Splunk Data Sans', Menlo, Consolas, monospace;
        font-size: 12px;
    }
`;

const FooterNote = styled.span`
    margin-right: auto;
    display: inline-flex;
    align-items: center;
    gap: 8px;
`;

const COLLAPSED = new Set(['proxy', 'advanced', 'backfill']);

function secretHelp(f, state) {
    if (state === 'stored') return `Stored in Splunk's encrypted store. Leave empty to keep it; type a new value to replace it.`;
    if (state === 'clear') return `inputs.conf holds this value in clear text; the input moves it to the encrypted store on its next run. Type it here to store it now.`;
    return f.help;
}

function Field({ f, values, secrets, stored, errors, indexes, onValue, onSecret, inputRef }) {
    const id = `oktasight-${f.name}`;
    const err = errors[f.name];
    const common = { inputId: id, name: f.name, error: !!err };
    let control;
    switch (f.kind) {
        case 'secret': {
            const state = stored[f.name];
            const placeholder = state === 'stored' ? 'Stored encrypted (hidden)' : '';
            const help = secretHelp(f, state);
            control = f.multiline ? (
                <Mono>
                    <TextArea {...common} rowsMin={4} rowsMax={10} value={secrets[f.name] || ''} placeholder={placeholder || '-----BEGIN PRIVATE KEY-----'}
                        autoComplete="off" spellCheck={false} onChange={(e, { value }) => onSecret(f.name, value)} />
                </Mono>
            ) : (
                <Text {...common} type="password" autoComplete="new-password" value={secrets[f.name] || ''} placeholder={placeholder}
                    onChange={(e, { value }) => onSecret(f.name, value)} />
            );
            return (
                <ControlGroup label={f.label} labelPosition="left" labelWidth={180} help={err || help} error={!!err} required={f.required && state !== 'stored'} controlsLayout="fill">
                    {control}
                </ControlGroup>
            );
        }
        case 'choice':
            control = f.options.length <= 2 ? (
                <RadioBar {...common} value={values[f.name] || f.default} onChange={(e, { value }) => onValue(f.name, value)}>
                    {f.options.map(([v, label]) => <RadioBar.Option key={v} value={v} label={label} />)}
                </RadioBar>
            ) : (
                <Select {...common} value={values[f.name] || f.default} onChange={(e, { value }) => onValue(f.name, value)}>
                    {f.options.map(([v, label]) => <Select.Option key={v} value={v} label={label} />)}
                </Select>
            );
            break;
        case 'flag':
            control = (
                <Switch name={f.name} appearance="toggle" selected={values[f.name] === '1'}
                    onClick={() => onValue(f.name, values[f.name] === '1' ? '0' : '1')}>
                    {values[f.name] === '1' ? 'On' : 'Off'}
                </Switch>
            );
            break;
        case 'index':
            control = (
                <ComboBox {...common} value={values[f.name] || ''} placeholder={f.placeholder} onChange={(e, { value }) => onValue(f.name, value)}>
                    {indexes.map((n) => <ComboBox.Option key={n} value={n} />)}
                </ComboBox>
            );
            break;
        default:
            control = (
                <Text {...common} value={values[f.name] || ''} placeholder={f.placeholder} inputRef={inputRef}
                    inputMode={f.kind === 'number' ? 'numeric' : undefined} onChange={(e, { value }) => onValue(f.name, value)} />
            );
    }
    return (
        <ControlGroup label={f.label} labelPosition="left" labelWidth={180} help={err || f.help} error={!!err} required={!!f.required}>
            {control}
        </ControlGroup>
    );
}

// InputForm creates (entry null) or edits an input; onSaved(name) after splunkd accepted it.
export default function InputForm({ entry, names = [], indexes, onClose, onSaved }) {
    const creating = !entry;
    const original = creating ? {} : fromEntry(entry.content);
    const [values, setValues] = useState(creating ? { auth_type: 'api_token', name: '' } : original);
    const [secrets, setSecrets] = useState({});
    const [errors, setErrors] = useState({});
    const [failure, setFailure] = useState(null);
    const [saving, setSaving] = useState(false);
    const returnFocus = useRef(null);
    const failureRef = useRef(null);
    const stored = {};
    if (!creating) {
        for (const f of FIELDS) if (f.kind === 'secret') stored[f.name] = secretState(entry.content, f.name);
    }
    // Collapsed groups open when they hold a value, and when a check finds a problem in them.
    const [open, setOpen] = useState(() => new Set([...COLLAPSED].filter((g) =>
        FIELDS.some((f) => f.group === g && f.kind !== 'choice' && (original[f.name] || stored[f.name] === 'stored')))));

    const onValue = (name, value) => setValues((v) => ({ ...v, [name]: value }));
    const onSecret = (name, value) => setSecrets((s) => ({ ...s, [name]: value }));

    const save = async () => {
        const storedFlags = Object.fromEntries(Object.entries(stored).map(([k, v]) => [k, v !== 'none']));
        const errs = check(values, secrets, { creating, stored: storedFlags });
        if (creating && !errs.name && names.includes((values.name || '').trim())) {
            errs.name = 'An input of this name exists (see the list): choose another name, or edit that input.';
        }
        setErrors(errs);
        setFailure(null);
        setOpen((o) => new Set([...o, ...FIELDS.filter((f) => errs[f.name]).map((f) => f.group)]));
        if (Object.keys(errs).length) return;
        // Only the secrets the chosen authentication uses are sent.
        const sent = {};
        for (const f of FIELDS) {
            if (f.kind === 'secret' && visible(f, values) && (secrets[f.name] || '').trim()) sent[f.name] = secrets[f.name];
        }
        setSaving(true);
        try {
            let changed = true;
            if (creating) {
                const settings = {};
                for (const f of FIELDS) {
                    if (f.kind === 'secret' || !visible(f, values)) continue;
                    const v = (values[f.name] || '').trim();
                    if (v !== '' && !(f.default && v === f.default && f.name !== 'auth_type')) settings[f.name] = v;
                }
                await createInput(values.name.trim(), settings, sent);
            } else {
                changed = (await editInput(entry, changes(values, original), sent)) !== null;
            }
            setSaving(false);
            onSaved(creating ? values.name.trim() : entry.name, changed);
        } catch (err) {
            setSaving(false);
            setFailure(err);
            // The answer is at the top of the dialog; the admin clicked at its bottom.
            setTimeout(() => failureRef.current && failureRef.current.scrollIntoView({ block: 'nearest' }), 0);
        }
    };

    const title = creating ? 'New Okta input' : `Edit Okta input "${entry.name}"`;
    const nameField = creating ? (
        <ControlGroup label="Input name" labelPosition="left" labelWidth={180} required error={!!errors.name}
            help={errors.name || 'The stanza name [oktainput://<name>]; it also names the input\'s checkpoint and its secrets.'}>
            <Text inputId="oktasight-name" name="name" value={values.name} error={!!errors.name} placeholder="acme"
                onChange={(e, { value }) => onValue('name', value)} />
        </ControlGroup>
    ) : null;

    return (
        <Modal open returnFocus={returnFocus} onRequestClose={saving ? undefined : onClose} style={{ width: 760, maxWidth: '96vw' }}
            data-test="input-form">
            <Modal.Header title={title}
                subtitle="Saving stores the secrets encrypted, then asks splunkd to save the input; splunkd runs oktainput's validation, which makes one request to Okta." />
            <Modal.Body>
                {failure && (
                    <Message type="error" data-test="save-error" elementRef={failureRef}>
                        <strong>Not saved. </strong>
                        {failure.messages && failure.messages.length ? failure.messages.join(' ') : failure.message}
                    </Message>
                )}
                {Object.keys(errors).length > 0 && (
                    <Message type="warning" data-test="form-errors">Check the highlighted settings.</Message>
                )}
                {GROUPS.map(([group, label]) => {
                    const fields = FIELDS.filter((f) => f.group === group && visible(f, values));
                    const body = (
                        <>
                            {group === 'org' && nameField}
                            {fields.map((f) => (
                                <Field key={f.name} f={f} values={values} secrets={secrets} stored={stored} errors={errors}
                                    indexes={indexes} onValue={onValue} onSecret={onSecret} />
                            ))}
                        </>
                    );
                    if (COLLAPSED.has(group)) {
                        return (
                            <Section key={group}>
                                <CollapsiblePanel title={label} open={open.has(group)} data-test={`group-${group}`}
                                    onChange={() => setOpen((o) => {
                                        const n = new Set(o);
                                        if (n.has(group)) n.delete(group); else n.add(group);
                                        return n;
                                    })}>
                                    {body}
                                </CollapsiblePanel>
                            </Section>
                        );
                    }
                    return (
                        <Section key={group}>
                            <Heading level={4}>{label}</Heading>
                            {body}
                        </Section>
                    );
                })}
            </Modal.Body>
            <Modal.Footer>
                <FooterNote>{saving && <><WaitSpinner size="medium" /> Validating with Okta…</>}</FooterNote>
                <Button appearance="secondary" label="Cancel" onClick={onClose} disabled={saving} />
                <Button appearance="primary" label={creating ? 'Create input' : 'Save'} onClick={save} disabled={saving} data-test="save" />
            </Modal.Footer>
        </Modal>
    );
}
