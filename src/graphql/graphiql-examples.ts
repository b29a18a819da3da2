// GraphiQL's page: the operations its tabs open with, so an analyst can run something at
// once. Each tab's comments say which operation gives the ids its variables need; in
// development the demo setup's community id is filled in.
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { GraphiQLOptions } from 'graphql-yoga';
import { findDemoCommunity } from '../dev-setup.ts';
import type { Services } from '../services.ts';

const communities = /* GraphQL */ `
  # 1. Paste your API key in the Headers tab below.
  #    In development: the admin key printed at the
  #    first start, also in .data/dev-api-key.
  # 2. Run: Ctrl+Enter or the ▶ button.
  # 3. ↻ in the left bar (Re-fetch GraphQL schema)
  #    loads the docs and completion.
  # The ids of communities go into the other tabs'
  # variables (communityId).
  query WhoAmI {
    viewer {
      user {
        name
        email
      }
    }
    communities {
      id
      name
      parent {
        name
      }
      permissions
    }
  }
`;

const collections = /* GraphQL */ `
  query Collections($search: String) {
    collections(first: 20, search: $search) {
      totalCount
      edges {
        node {
          id
          name
          community {
            name
          }
          availableForSubCommunities
          indicatorCount
          updatedAt
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }

  # communityId: an id of the WhoAmI tab's communities
  # (filled in for the demo community in development).
  mutation CreateCollection($communityId: ID!) {
    createCollection(
      input: { communityId: $communityId, name: "Phishing campaign", availableForSubCommunities: true }
    ) {
      __typename
      ... on CreateCollectionSuccess {
        collection {
          id
          name
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
`;

const textImport = /* GraphQL */ `
  # collectionId: an id of the Collections tab's answer
  # (or of CreateCollection's).
  mutation ImportText($collectionId: ID!) {
    importIndicatorsFromText(
      input: {
        collectionId: $collectionId
        text: "hxxp://evil[.]example/payload.exe\\n198.51.100[.]7\\nd41d8cd98f00b204e9800998ecf8427e\\nnot an ioc"
        properties: { killChainPhases: [{ phaseName: "c2" }], description: "From the CERT bulletin" }
      }
    ) {
      __typename
      ... on ImportSuccess {
        importJob {
          id
          status
        }
      }
      ... on Error {
        code
        message
      }
    }
  }

  # jobId: importJob.id of ImportText's answer.
  subscription FollowImport($jobId: ID!) {
    importJobUpdated(id: $jobId) {
      status
      total
      processed
      created
      updated
      unchanged
      invalid
    }
  }
`;

const indicators = /* GraphQL */ `
  # collectionId: an id of the Collections tab's answer.
  query Indicators($collectionId: ID!, $search: String) {
    node(id: $collectionId) {
      ... on Collection {
        name
        indicators(first: 50, search: $search) {
          totalCount
          edges {
            node {
              id
              type
              value
              hashes {
                algorithm
                value
              }
              threats {
                name
              }
              killChainPhases {
                killChainName
                phaseName
              }
              validFrom
              validUntil
              revoked
            }
          }
        }
      }
    }
  }

  # jobId: importJob.id of the ImportText tab's answer.
  query ImportErrors($jobId: ID!) {
    node(id: $jobId) {
      ... on ImportJob {
        status
        invalid
        errors(first: 100) {
          edges {
            node {
              line
              value
              code
              message
            }
          }
        }
      }
    }
  }
`;

const notifications = /* GraphQL */ `
  query Notifications {
    unreadNotificationCount
    notifications(first: 20) {
      edges {
        node {
          id
          kind
          title
          read
          createdAt
          subject {
            id
            __typename
          }
        }
      }
    }
  }

  subscription NewNotifications {
    notificationAdded {
      id
      kind
      title
    }
  }
`;

const telemetry = /* GraphQL */ `
  # Events arrive at POST /api/events (NDJSON, ECS field
  # names); then ask for a report.
  # collectionId: an id of the Collections tab's answer.
  mutation GenerateReport($collectionId: ID!) {
    generateTelemetryReport(input: { collectionId: $collectionId }) {
      __typename
      ... on GenerateTelemetryReportSuccess {
        telemetryReport {
          id
          status
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
  # reportId: telemetryReport.id of GenerateReport's
  # answer (for both operations below).
  subscription FollowReport($reportId: ID!) {
    telemetryReportUpdated(id: $reportId) {
      status
      indicatorsSeen
    }
  }
  query Report($reportId: ID!) {
    node(id: $reportId) {
      ... on TelemetryReport {
        periodStart
        periodEnd
        communities {
          name
        }
        entries(first: 50) {
          totalCount
          edges {
            node {
              indicator {
                type
                value
              }
              sightings
              firstSeen
              lastSeen
              heatmap {
                date
                count
              }
              heatmapSvgUrl
            }
          }
        }
      }
    }
  }
`;

export const graphiqlTabs: { query: string; variables?: string }[] = [
  communities,
  collections,
  textImport,
  indicators,
  telemetry,
  notifications,
].map((query) => ({ query }));

/** The variables a tab's operations declare, by name. */
const variablesOf = (query: string) => new Set([...query.matchAll(/\$(\w+)\s*:/g)].map(([, name]) => name));

/** The tabs with the given ids (global ids by variable name) in the variables of the tabs that use them. */
export function graphiqlTabsWith(ids: Record<string, string>) {
  return graphiqlTabs.map((tab) => {
    const declared = variablesOf(tab.query);
    const known = Object.entries(ids).filter(([name]) => declared.has(name));
    return known.length ? { ...tab, variables: JSON.stringify(Object.fromEntries(known), null, 2) } : tab;
  });
}

/** Yoga's `graphiql` option, evaluated at each load of the page. */
export async function graphiqlOptions(services: Services): Promise<GraphiQLOptions> {
  const demo = await findDemoCommunity(services);
  return {
    title: 'IOC Collections',
    defaultTabs: graphiqlTabsWith(demo ? { communityId: encodeGlobalID('Community', demo.id) } : {}),
    // Shared by every tab (GraphiQL ignores a tab's own headers); kept in the browser once pasted.
    defaultHeaders: JSON.stringify({ Authorization: 'Bearer <your API key>' }, null, 2),
    shouldPersistHeaders: true,
  };
}
