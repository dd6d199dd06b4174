// Entry point: mounts the setup page into the <div id="oktasight-setup"> of the view
// default/data/ui/views/oktasight_setup.xml, which Splunk Web loads with this script.
import React from 'react';
import { createRoot } from 'react-dom/client';
import { SplunkThemeProvider } from '@splunk/themes';
import { defaultTheme, getThemeOptions } from '@splunk/splunk-utils/themes';
import SetupPage from './SetupPage';

const ID = 'oktasight-setup';

function mount(el) {
    const theme = getThemeOptions(defaultTheme() || 'enterprise');
    el.textContent = '';
    createRoot(el).render(
        <SplunkThemeProvider {...theme}>
            <SetupPage />
        </SplunkThemeProvider>,
    );
}

// Splunk Web may run dashboard scripts before the panel's HTML is in the document.
function whenPresent(cb) {
    const el = document.getElementById(ID);
    if (el) {
        cb(el);
        return;
    }
    const obs = new MutationObserver(() => {
        const found = document.getElementById(ID);
        if (found) {
            obs.disconnect();
            cb(found);
        }
    });
    obs.observe(document.documentElement, { childList: true, subtree: true });
}

whenPresent(mount);
