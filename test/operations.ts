// Operations shared by the tests; codegen turns each into a typed document.
import { graphql } from './generated/gql.ts';

// Fragments: selections that several operations repeat.

/** What a mutation answers when it fails: every error member of a result union. */
export const MutationError = graphql(`
  fragment MutationError on Error {
    code
    message
    ... on ValidationError {
      field
    }
    ... on ForbiddenError {
      missingPermission
    }
  }
`);

/** An import job's state and counts, as a poll and importJobUpdated both show them. */
export const ImportJobCounts = graphql(`
  fragment ImportJobCounts on ImportJob {
    id
    status
    total
    processed
    created
    updated
    unchanged
    invalid
  }
`);

/** An indicator with its properties, as a listing and an edit both show it. */
export const IndicatorDetails = graphql(`
  fragment IndicatorDetails on Indicator {
    id
    type
    value
    description
    validFrom
    validUntil
    revoked
    hashes {
      algorithm
      value
    }
    threats {
      id
      name
    }
    killChainPhases {
      killChainName
      phaseName
    }
  }
`);

// Operations

export const CreateCollection = graphql(`
  mutation CreateCollection($input: CreateCollectionInput!) {
    createCollection(input: $input) {
      __typename
      ... on CreateCollectionSuccess {
        collection {
          id
          name
          description
          availableForSubCommunities
          createDetectionRule
          indicatorCount
          viewerCanManage
          community {
            id
          }
        }
      }
      ...MutationError
    }
  }
`);

export const UpdateCollection = graphql(`
  mutation UpdateCollection($input: UpdateCollectionInput!) {
    updateCollection(input: $input) {
      __typename
      ... on UpdateCollectionSuccess {
        collection {
          id
          name
          description
          availableForSubCommunities
        }
      }
      ...MutationError
    }
  }
`);

export const Collections = graphql(`
  query Collections($first: Int, $after: String, $search: String, $communityId: ID) {
    collections(first: $first, after: $after, search: $search, communityId: $communityId) {
      totalCount
      edges {
        cursor
        node {
          id
          name
          community {
            id
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const ImportText = graphql(`
  mutation ImportText($input: ImportIndicatorsFromTextInput!) {
    importIndicatorsFromText(input: $input) {
      __typename
      ... on ImportSuccess {
        importJob {
          id
          status
          kind
        }
      }
      ...MutationError
    }
  }
`);

export const ImportJobState = graphql(`
  query ImportJobState($id: ID!) {
    node(id: $id) {
      ... on ImportJob {
        ...ImportJobCounts
        kind
        failureMessage
        finishedAt
        errors(first: 100) {
          totalCount
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
`);

export const Indicators = graphql(`
  query Indicators(
    $id: ID!
    $first: Int
    $after: String
    $search: String
    $types: [ObservableType!]
    $threatIds: [ID!]
    $killChainPhases: [KillChainPhaseInput!]
    $includeRevoked: Boolean
    $revoked: Boolean
  ) {
    node(id: $id) {
      ... on Collection {
        indicatorCount
        indicators(
          first: $first
          after: $after
          search: $search
          types: $types
          threatIds: $threatIds
          killChainPhases: $killChainPhases
          includeRevoked: $includeRevoked
          revoked: $revoked
        ) {
          totalCount
          pageInfo {
            hasNextPage
            endCursor
          }
          edges {
            node {
              ...IndicatorDetails
              revokedAt
            }
          }
        }
      }
    }
  }
`);

export const Threats = graphql(`
  query Threats($search: String, $first: Int) {
    threats(search: $search, first: $first) {
      totalCount
      edges {
        node {
          id
          name
          aliases
          kind
        }
      }
    }
  }
`);

export const RevokeIndicator = graphql(`
  mutation RevokeIndicator($input: RevokeIndicatorInput!) {
    revokeIndicator(input: $input) {
      __typename
      ... on RevokeIndicatorSuccess {
        indicator {
          id
          value
          revoked
          revokedAt
          revokedBy {
            email
          }
        }
      }
      ...MutationError
    }
  }
`);

export const PreviewFile = graphql(`
  mutation FileImportPreview($input: PreviewIndicatorFileInput!) {
    previewIndicatorFile(input: $input) {
      __typename
      ... on PreviewIndicatorFileSuccess {
        preview {
          fileHandle
          format
          sheets
          sheet
          headerRowDetected
          header
          rows
          columns {
            index
            header
            samples
            suggestedProperty
          }
          unknownThreats
          file {
            id
            fileName
            size
          }
        }
      }
      ... on Error {
        code
        message
      }
      ... on UnreadableFileError {
        reason
      }
      ... on ValidationError {
        field
      }
    }
  }
`);

export const ImportFile = graphql(`
  mutation FileImportStart($input: ImportIndicatorsFromFileInput!) {
    importIndicatorsFromFile(input: $input) {
      __typename
      ... on ImportSuccess {
        importJob {
          id
          kind
        }
      }
      ... on Error {
        code
        message
      }
      ... on ValidationError {
        field
      }
    }
  }
`);

// ---- notifications

export const MarkNotificationsRead = graphql(`
  mutation MarkNotificationsRead($input: MarkNotificationsReadInput!) {
    markNotificationsRead(input: $input) {
      __typename
      ... on MarkNotificationsReadSuccess {
        result {
          markedRead
          unreadCount
        }
      }
      ...MutationError
    }
  }
`);

// ---- telemetry

export const GenerateTelemetryReport = graphql(`
  mutation GenerateTelemetryReport($input: GenerateTelemetryReportInput!) {
    generateTelemetryReport(input: $input) {
      __typename
      ... on GenerateTelemetryReportSuccess {
        telemetryReport {
          id
          status
          periodStart
          periodEnd
          communities {
            id
          }
        }
      }
      ...MutationError
    }
  }
`);

/** A report with its entries, as the report page shows it. */
export const TelemetryReportDetails = graphql(`
  query TelemetryReportDetails($id: ID!, $first: Int, $after: String) {
    node(id: $id) {
      ... on TelemetryReport {
        id
        status
        requestedAt
        completedAt
        periodStart
        periodEnd
        indicatorsChecked
        indicatorsSeen
        communities {
          id
        }
        collection {
          id
          name
        }
        entries(first: $first, after: $after) {
          totalCount
          pageInfo {
            hasNextPage
            endCursor
          }
          edges {
            node {
              sightings
              firstSeen
              lastSeen
              heatmapSvgUrl
              heatmap {
                date
                count
              }
              indicator {
                id
                type
                value
                revoked
              }
            }
          }
        }
      }
    }
  }
`);

export const LatestTelemetryReport = graphql(`
  query LatestTelemetryReport($id: ID!) {
    node(id: $id) {
      ... on Collection {
        latestTelemetryReport {
          id
          status
        }
      }
    }
  }
`);

// ---- detection

/** What a retrohunt shows of its progress. */
export const DetectionRetrohuntFields = graphql(`
  fragment DetectionRetrohuntFields on Retrohunt {
    id
    trigger
    status
    indicatorsSince
    rangeStart
    rangeEnd
    scannedUntil
    matches
    alertsCreated
    failureMessage
    startedAt
    finishedAt
  }
`);

/** A rule with its newest retrohunt, as the rule page shows it. */
export const DetectionRuleFields = graphql(`
  fragment DetectionRuleFields on DetectionRule {
    id
    name
    enabled
    collection {
      id
    }
    latestRetrohunt {
      ...DetectionRetrohuntFields
    }
  }
`);

export const CreateDetectionRule = graphql(`
  mutation CreateDetectionRule($input: CreateDetectionRuleInput!) {
    createDetectionRule(input: $input) {
      __typename
      ... on CreateDetectionRuleSuccess {
        detectionRule {
          ...DetectionRuleFields
        }
      }
      ...MutationError
    }
  }
`);

export const UpdateDetectionRule = graphql(`
  mutation UpdateDetectionRule($input: UpdateDetectionRuleInput!) {
    updateDetectionRule(input: $input) {
      __typename
      ... on UpdateDetectionRuleSuccess {
        detectionRule {
          ...DetectionRuleFields
        }
      }
      ...MutationError
    }
  }
`);

export const DetectionAlertFields = graphql(`
  fragment DetectionAlertFields on Alert {
    id
    field
    value
    count
    firstSeen
    lastSeen
    retrohunt
    status
    excerpt
    updatedAt
    rule {
      id
    }
    collection {
      id
    }
    community {
      id
    }
    indicator {
      id
      value
    }
  }
`);
