// The render page: Splunk's own Dashboard Studio packages (dashboard-core, the Enterprise
// preset, the definition validator) bundled by esbuild so the test runs offline in Chromium.
// Every ds.search/ds.chain is answered with the rows the test generated for it (by data source
// id) instead of a splunkd search job; everything else is Splunk's code as Splunk Web runs it.
import React from 'react';
import { createRoot } from 'react-dom/client';
import DashboardCore from '@splunk/dashboard-core';
import { DashboardContextProvider } from '@splunk/dashboard-context';
import EnterprisePreset from '@splunk/dashboard-presets/EnterprisePreset';
import TestDataSource from '@splunk/datasources/TestDataSource';
import SplunkThemeProvider from '@splunk/themes/SplunkThemeProvider';
import { DashboardValidator } from '@splunk/dashboard-validation';
import { createSchemaBasedOnPresets } from '@splunk/dashboard-definition';

const state = { requests: {}, missing: [], validationErrors: [], navigations: [] };
window.oktasight = state;

// FixtureSearch answers a search with the rows the test made for this data source id; it keeps
// ds.search's own options schema so the definition is validated against Splunk's.
function fixtureClass(Real) {
    return class FixtureSearch extends TestDataSource {
        static schema = Real.schema;
        static config = Real.config;
        constructor(options = {}, context = {}) {
            const rows = (window.__fixtures || {})[context.id];
            if (!rows) {
                state.missing.push(context.id);
            }
            super({ data: rows || { fields: [], columns: [] } }, context);
            state.requests[context.id] = { query: options.query, queryParameters: options.queryParameters };
        }
    };
}

const preset = {
    ...EnterprisePreset,
    dataSources: {
        ...EnterprisePreset.dataSources,
        'ds.search': fixtureClass(EnterprisePreset.dataSources['ds.search']),
        'ds.chain': fixtureClass(EnterprisePreset.dataSources['ds.chain']),
    },
};

// validate runs Splunk's DashboardValidator with the schema the Enterprise preset makes, as
// Splunk Web does before it renders a dashboard.
window.validateDefinition = (definition) => {
    const v = new DashboardValidator();
    const err = v.setSchema(createSchemaBasedOnPresets(EnterprisePreset));
    if (err) {
        return [{ message: `schema: ${err.message}` }];
    }
    return (v.validate(definition) || []).map((e) => ({
        instancePath: e.instancePath,
        message: e.message,
        params: e.params,
    }));
};

// urlTokens reads form.<token> parameters as Splunk Web does when it opens a dashboard: a
// drilldown into another dashboard sets that dashboard's inputs this way.
function urlTokens() {
    const tokens = {};
    for (const [k, v] of new URLSearchParams(window.location.search)) {
        if (k.startsWith('form.')) {
            tokens[k.slice(5)] = v;
        }
    }
    return tokens;
}

let root = null;

// renderDashboard draws a definition in place of the one drawn before, as a fresh dashboard.
window.renderDashboard = (definition, extraTokens) => {
    const tokens = { ...urlTokens(), ...(extraTokens || {}) };
    if (root) {
        root.unmount();
    }
    Object.assign(state, { requests: {}, missing: [], validationErrors: [], tokens });
    root = createRoot(document.getElementById('root'));
    root.render(
        <SplunkThemeProvider family="enterprise" colorScheme="light" density="comfortable">
            <DashboardContextProvider
                preset={preset}
                initialDefinition={definition}
                initialTokenBinding={Object.keys(tokens).length ? { default: tokens } : undefined}
            >
                <DashboardCore
                    width={1440}
                    height="100%"
                    onValidationError={(e) => state.validationErrors.push(String(e))}
                />
            </DashboardContextProvider>
        </SplunkThemeProvider>
    );
};
