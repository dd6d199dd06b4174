// The oktasight setup page: the Okta inputs of this splunkd, and what can be done with them.
import React, { useCallback, useEffect, useRef, useState } from 'react';
import Button from '@splunk/react-ui/Button';
import Heading from '@splunk/react-ui/Heading';
import Message from '@splunk/react-ui/Message';
import Modal from '@splunk/react-ui/Modal';
import Switch from '@splunk/react-ui/Switch';
import Table from '@splunk/react-ui/SimpleTable';
import WaitSpinner from '@splunk/react-ui/WaitSpinner';
import Link from '@splunk/react-ui/Link';
import styled from 'styled-components';
import { variables } from '@splunk/themes';
import InputForm from './InputForm';
import { deleteInput, listIndexes, listInputs, setEnabled } from './api';
import { secretState } from './fields.mjs';

const Page = styled.div`
    max-width: 1200px;
    padding: 8px 4px 24px;
    color: ${variables.contentColorDefault};
`;

const Bar = styled.div`
    display: flex;
    align-items: flex-start;
    justify-content: space-between;
    gap: 24px;
    margin-bottom: 12px;
`;

const Lead = styled.p`
    margin: 4px 0 0;
    max-width: 820px;
    line-height: 1.5;
    color: ${variables.contentColorMuted};
`;

const Muted = styled.span`
    color: ${variables.contentColorMuted};
`;

const Warn = styled.span`
    color: ${variables.statusColorHigh || variables.contentColorDefault};
`;

const Empty = styled.div`
    padding: 32px;
    display: flex;
    flex-direction: column;
    align-items: center;
    gap: 4px;
    border: 1px dashed ${variables.borderColor};
    border-radius: 4px;
`;

const Notice = styled.div`
    margin-bottom: 12px;
`;

const Actions = styled.div`
    display: flex;
    gap: 8px;
    justify-content: flex-end;
`;

const Notes = styled.ul`
    margin: 20px 0 0;
    padding-left: 18px;
    line-height: 1.6;
    color: ${variables.contentColorMuted};
`;

function bool(v) {
    return v === true || v === 1 || v === '1' || v === 'true';
}

function authLabel(c) {
    if ((c.auth_type || 'api_token') === 'oauth') return `OAuth app ${c.client_id || '(no client ID)'}`;
    return 'API token';
}

// secretsCell says where the input's secrets are, never what they are.
function secretsCell(c) {
    const main = (c.auth_type || 'api_token') === 'oauth' ? 'private_key' : 'api_token';
    const names = [main, ...(c.proxy_username || secretState(c, 'proxy_password') !== 'none' ? ['proxy_password'] : [])];
    const states = names.map((n) => [n, secretState(c, n)]);
    const clear = states.filter(([, s]) => s === 'clear').map(([n]) => n);
    const missing = states.filter(([n, s]) => s === 'none' && n === main).map(([n]) => n);
    if (clear.length) return <Warn title="Typed into inputs.conf: the input moves it to the encrypted store when it next runs, or edit the input and type it here">Clear text in inputs.conf</Warn>;
    if (missing.length) return <Warn>{missing.join(', ')} not set</Warn>;
    return <Muted>Encrypted store</Muted>;
}

export default function SetupPage() {
    const [entries, setEntries] = useState(null);
    const [loadError, setLoadError] = useState(null);
    const [indexes, setIndexes] = useState([]);
    const [editing, setEditing] = useState(null); // {entry} or {entry: null} for a new input
    const [deleting, setDeleting] = useState(null);
    const [busy, setBusy] = useState(null);
    const [notice, setNotice] = useState(null);
    const [actionError, setActionError] = useState(null);
    const returnFocus = useRef(null);

    const load = useCallback(async () => {
        try {
            const list = await listInputs();
            list.sort((a, b) => a.name.localeCompare(b.name));
            setEntries(list);
            setLoadError(null);
        } catch (err) {
            setLoadError(err);
            setEntries([]);
        }
    }, []);

    useEffect(() => {
        load();
        listIndexes().then(setIndexes);
    }, [load]);

    const toggle = async (entry) => {
        const enable = bool(entry.content.disabled);
        setBusy(entry.name);
        setActionError(null);
        try {
            await setEnabled(entry, enable);
            setNotice(`Input "${entry.name}" ${enable ? 'enabled: splunkd starts it now' : 'disabled: splunkd stops it'}.`);
            await load();
        } catch (err) {
            setActionError(`Could not ${enable ? 'enable' : 'disable'} "${entry.name}": ${err.message}`);
        }
        setBusy(null);
    };

    const remove = async () => {
        const entry = deleting;
        setBusy(entry.name);
        setActionError(null);
        try {
            await deleteInput(entry);
            setNotice(`Input "${entry.name}" deleted, with its secrets. Events already indexed stay.`);
        } catch (err) {
            setActionError(`Could not delete "${entry.name}": ${err.message}`);
        }
        setDeleting(null);
        setBusy(null);
        await load();
    };

    const saved = async (name, changed) => {
        const created = editing && !editing.entry;
        setEditing(null);
        setNotice(changed
            ? `Input "${name}" ${created ? 'created' : 'saved'}: Okta accepted its credentials, and splunkd ${created ? 'starts' : 'restarts'} it now.`
            : `Input "${name}": nothing changed, nothing saved.`);
        await load();
    };

    let body;
    if (entries === null) {
        body = <WaitSpinner size="medium" />;
    } else if (loadError) {
        body = (
            <Message type="error" data-test="load-error">
                Cannot list the Okta inputs: {loadError.message}
                {loadError.status === 403 && ' This page needs a Splunk admin (the edit_modinput_oktainput and list_storage_passwords capabilities).'}
            </Message>
        );
    } else if (entries.length === 0) {
        body = (
            <Empty data-test="empty">
                <Heading level={3}>No Okta input yet</Heading>
                <p>Create one to start reading your org&apos;s System Log into Splunk.</p>
                <Button appearance="primary" label="New input" onClick={() => setEditing({ entry: null })} />
            </Empty>
        );
    } else {
        body = (
            <Table data-test="inputs" style={{ width: '100%' }}>
                <Table.Head>
                    <Table.HeadCell width={150}>Name</Table.HeadCell>
                    <Table.HeadCell>Okta org</Table.HeadCell>
                    <Table.HeadCell width={200}>Authentication</Table.HeadCell>
                    <Table.HeadCell width={110}>Index</Table.HeadCell>
                    <Table.HeadCell width={160}>Secrets</Table.HeadCell>
                    <Table.HeadCell width={110}>Status</Table.HeadCell>
                    <Table.HeadCell width={150} align="right">Actions</Table.HeadCell>
                </Table.Head>
                <Table.Body>
                    {entries.map((e) => {
                        const c = e.content || {};
                        const enabled = !bool(c.disabled);
                        const app = (e.acl && e.acl.app) || c['eai:appName'];
                        return (
                            <Table.Row key={e.name} data-test={`row-${e.name}`}>
                                <Table.Cell>
                                    <strong>{e.name}</strong>
                                    {app && app !== 'oktasight' && <div><Muted>in app {app}</Muted></div>}
                                </Table.Cell>
                                <Table.Cell>{c.org_url || <Warn>not set</Warn>}</Table.Cell>
                                <Table.Cell>{authLabel(c)}</Table.Cell>
                                <Table.Cell>{c.index || 'default'}</Table.Cell>
                                <Table.Cell>{secretsCell(c)}</Table.Cell>
                                <Table.Cell>
                                    <Switch appearance="toggle" selected={enabled} disabled={busy === e.name}
                                        onClick={() => toggle(e)} data-test={`toggle-${e.name}`}>
                                        {enabled ? 'Enabled' : 'Disabled'}
                                    </Switch>
                                </Table.Cell>
                                <Table.Cell align="right">
                                    <Actions>
                                        <Button appearance="secondary" label="Edit" onClick={() => setEditing({ entry: e })} data-test={`edit-${e.name}`} />
                                        <Button appearance="destructiveSecondary" label="Delete" onClick={() => setDeleting(e)} data-test={`delete-${e.name}`} />
                                    </Actions>
                                </Table.Cell>
                            </Table.Row>
                        );
                    })}
                </Table.Body>
            </Table>
        );
    }

    return (
        <Page>
            <Bar>
                <div>
                    <Heading level={2}>Okta System Log inputs</Heading>
                    <Lead>
                        Each input reads one Okta org&apos;s System Log into an index, every event once. API tokens,
                        private keys and proxy passwords go to Splunk&apos;s encrypted store and are never shown again.
                        Saving runs the input&apos;s validation, which asks Okta once with the credentials.
                    </Lead>
                </div>
                {entries && entries.length > 0 && (
                    <Button appearance="primary" label="New input" onClick={() => setEditing({ entry: null })} data-test="new" />
                )}
            </Bar>
            {notice && <Notice><Message type="success" data-test="notice" onRequestRemove={() => setNotice(null)}>{notice}</Message></Notice>}
            {actionError && <Notice><Message type="error" data-test="action-error" onRequestRemove={() => setActionError(null)}>{actionError}</Message></Notice>}
            {body}
            <Notes>
                <li>
                    Same settings in <code>$SPLUNK_HOME/etc/apps/oktasight/local/inputs.conf</code> (see
                    {' '}<code>README/inputs.conf.spec</code>) or <em>Settings &gt; Data inputs &gt; Okta System Log</em>;
                    this page lists those inputs too.
                </li>
                <li>
                    Health of running inputs: the <Link to="oktasight_ingest_health">Okta ingest health</Link> dashboard.
                </li>
            </Notes>
            {editing && (
                <InputForm entry={editing.entry} names={entries ? entries.map((e) => e.name) : []} indexes={indexes} onClose={() => setEditing(null)} onSaved={saved} />
            )}
            {deleting && (
                <Modal open returnFocus={returnFocus} onRequestClose={() => setDeleting(null)} style={{ width: 520 }} data-test="confirm-delete">
                    <Modal.Header title={`Delete input "${deleting.name}"?`} />
                    <Modal.Body>
                        splunkd stops the input and removes its stanza and its secrets from the encrypted store.
                        Events already indexed stay, and so does its checkpoint file.
                    </Modal.Body>
                    <Modal.Footer>
                        <Button appearance="secondary" label="Cancel" onClick={() => setDeleting(null)} />
                        <Button appearance="destructive" label="Delete" onClick={remove} disabled={busy === deleting.name} data-test="confirm" />
                    </Modal.Footer>
                </Modal>
            )}
        </Page>
    );
}
