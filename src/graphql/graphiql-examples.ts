// Operations GraphiQL opens with, so an analyst can run something at once.
const communities = /* GraphQL */ `
  # Paste your API key in the Headers tab below, then run.
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

  # Use a community id from the WhoAmI tab.
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
  # Events arrive at POST /api/events (NDJSON, ECS field names); then ask for a report.
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

const headers = JSON.stringify({ Authorization: 'Bearer <your API key>' }, null, 2);

export const graphiqlTabs = [communities, collections, textImport, indicators, telemetry, notifications].map(
  (query) => ({
    query,
    headers,
  }),
);
