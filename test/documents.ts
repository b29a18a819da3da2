// The operations the tests send, one document per operation, each selecting the fragments of
// test/fragments.ts; codegen turns each into a typed document. A test file writes a query of
// its own only when the text itself is what it tests: operation names as metric labels, raw
// protocol messages, hostile or over-limit requests, relations walked from the schema.
import { graphql } from './generated/gql.ts';

// ---- node(id) and nodes(ids)

export const Node = graphql(`
  query Node($id: ID!) {
    node(id: $id) {
      ...NodeSummary
    }
  }
`);

export const Nodes = graphql(`
  query Nodes($ids: [ID!]!) {
    nodes(ids: $ids) {
      ...NodeSummary
    }
  }
`);

// ---- viewer, communities and the catalogues

export const Viewer = graphql(`
  query Viewer {
    viewer {
      id
      user {
        name
        email
      }
      memberships {
        community {
          id
          name
        }
        role {
          name
          permissions
        }
      }
      communities {
        id
      }
    }
    communities {
      ...CommunityFields
    }
  }
`);

export const CommunityNode = graphql(`
  query CommunityNode($id: ID!) {
    node(id: $id) {
      ... on Community {
        ...CommunityFields
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
          ...ThreatFields
        }
      }
    }
  }
`);

export const KillChainPhases = graphql(`
  query KillChainPhases {
    killChainPhases {
      killChainName
      phaseName
    }
  }
`);

/** The fields of an input type, by introspection. */
export const InputTypeFields = graphql(`
  query InputTypeFields($name: String!) {
    __type(name: $name) {
      inputFields {
        name
      }
    }
  }
`);

// ---- collections

export const Collections = graphql(`
  query Collections($first: Int, $after: String, $search: String, $communityId: ID) {
    collections(first: $first, after: $after, search: $search, communityId: $communityId) {
      totalCount
      edges {
        cursor
        node {
          ...CollectionFields
        }
      }
      pageInfo {
        ...PageInfoFields
      }
    }
  }
`);

export const CollectionNode = graphql(`
  query CollectionNode($id: ID!) {
    node(id: $id) {
      ... on Collection {
        ...CollectionFields
      }
    }
  }
`);

export const CreateCollection = graphql(`
  mutation CreateCollection($input: CreateCollectionInput!) {
    createCollection(input: $input) {
      __typename
      ... on CreateCollectionSuccess {
        collection {
          ...CollectionFields
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
          ...CollectionFields
        }
      }
      ...MutationError
    }
  }
`);

// ---- indicators

/** A collection's indicator list, one page, as the collection page shows it. */
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
            ...PageInfoFields
          }
          edges {
            node {
              ...IndicatorFields
            }
          }
        }
      }
    }
  }
`);

export const UpdateIndicator = graphql(`
  mutation UpdateIndicator($input: UpdateIndicatorInput!) {
    updateIndicator(input: $input) {
      __typename
      ... on UpdateIndicatorSuccess {
        indicator {
          ...IndicatorFields
        }
      }
      ...MutationError
    }
  }
`);

export const RevokeIndicator = graphql(`
  mutation RevokeIndicator($input: RevokeIndicatorInput!) {
    revokeIndicator(input: $input) {
      __typename
      ... on RevokeIndicatorSuccess {
        indicator {
          ...IndicatorFields
          revokedBy {
            email
          }
        }
      }
      ...MutationError
    }
  }
`);

// ---- imports

export const ImportText = graphql(`
  mutation ImportText($input: ImportIndicatorsFromTextInput!) {
    importIndicatorsFromText(input: $input) {
      __typename
      ... on ImportSuccess {
        importJob {
          ...ImportJobFields
        }
      }
      ...MutationError
    }
  }
`);

export const PreviewFile = graphql(`
  mutation PreviewFile($input: PreviewIndicatorFileInput!) {
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
            ...UploadedFileFields
          }
        }
      }
      ...MutationError
    }
  }
`);

export const ImportFile = graphql(`
  mutation ImportFile($input: ImportIndicatorsFromFileInput!) {
    importIndicatorsFromFile(input: $input) {
      __typename
      ... on ImportSuccess {
        importJob {
          ...ImportJobFields
        }
      }
      ...MutationError
    }
  }
`);

/** An import job with its first 100 rejected rows, as the job page shows it. */
export const ImportJobNode = graphql(`
  query ImportJobNode($id: ID!) {
    node(id: $id) {
      ... on ImportJob {
        ...ImportJobFields
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

export const CollectionImports = graphql(`
  query CollectionImports($id: ID!, $first: Int) {
    node(id: $id) {
      ... on Collection {
        indicatorCount
        imports(first: $first) {
          totalCount
          edges {
            node {
              ...ImportJobFields
            }
          }
        }
      }
    }
  }
`);

export const UploadedFileNode = graphql(`
  query UploadedFileNode($id: ID!) {
    node(id: $id) {
      __typename
      ... on UploadedFile {
        ...UploadedFileFields
      }
    }
  }
`);

// ---- notifications

export const Notifications = graphql(`
  query Notifications($first: Int, $after: String, $unreadOnly: Boolean) {
    unreadNotificationCount
    notifications(first: $first, after: $after, unreadOnly: $unreadOnly) {
      totalCount
      pageInfo {
        ...PageInfoFields
      }
      edges {
        node {
          ...NotificationFields
        }
      }
    }
  }
`);

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
          ...TelemetryReportFields
        }
      }
      ...MutationError
    }
  }
`);

/** A report with a page of its entries, as the report page shows it. */
export const TelemetryReportNode = graphql(`
  query TelemetryReportNode($id: ID!, $first: Int, $after: String) {
    node(id: $id) {
      __typename
      ... on TelemetryReport {
        ...TelemetryReportFields
        entries(first: $first, after: $after) {
          totalCount
          pageInfo {
            ...PageInfoFields
          }
          edges {
            node {
              ...TelemetryEntryFields
            }
          }
        }
      }
    }
  }
`);

/** A collection's reports: the newest (for the button) and the list. */
export const CollectionTelemetryReports = graphql(`
  query CollectionTelemetryReports($id: ID!, $first: Int, $after: String) {
    node(id: $id) {
      ... on Collection {
        latestTelemetryReport {
          ...TelemetryReportFields
        }
        telemetryReports(first: $first, after: $after) {
          totalCount
          pageInfo {
            ...PageInfoFields
          }
          edges {
            node {
              ...TelemetryReportFields
            }
          }
        }
      }
    }
  }
`);

// ---- detection

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

/** A rule with its retrohunts (newest first). */
export const DetectionRuleNode = graphql(`
  query DetectionRuleNode($id: ID!) {
    node(id: $id) {
      ... on DetectionRule {
        ...DetectionRuleFields
        retrohunts(first: 50) {
          totalCount
          edges {
            node {
              ...RetrohuntFields
            }
          }
        }
      }
    }
  }
`);

export const RetrohuntNode = graphql(`
  query RetrohuntNode($id: ID!) {
    node(id: $id) {
      __typename
      ... on Retrohunt {
        ...RetrohuntFields
      }
    }
  }
`);

export const CollectionDetectionRules = graphql(`
  query CollectionDetectionRules($id: ID!) {
    node(id: $id) {
      ... on Collection {
        detectionRules {
          ...DetectionRuleFields
        }
      }
    }
  }
`);

export const Alerts = graphql(`
  query Alerts($first: Int, $after: String, $collectionId: ID, $ruleId: ID, $status: AlertStatus, $retrohunt: Boolean) {
    alerts(
      first: $first
      after: $after
      collectionId: $collectionId
      ruleId: $ruleId
      status: $status
      retrohunt: $retrohunt
    ) {
      totalCount
      pageInfo {
        ...PageInfoFields
      }
      edges {
        cursor
        node {
          ...AlertFields
        }
      }
    }
  }
`);

export const UpdateAlertStatus = graphql(`
  mutation UpdateAlertStatus($input: UpdateAlertStatusInput!) {
    updateAlertStatus(input: $input) {
      __typename
      ... on UpdateAlertStatusSuccess {
        alert {
          ...AlertFields
        }
      }
      ...MutationError
    }
  }
`);

// ---- subscriptions

export const ImportJobUpdated = graphql(`
  subscription ImportJobUpdated($id: ID!) {
    importJobUpdated(id: $id) {
      ...ImportJobFields
      errors(first: 1) {
        totalCount
      }
    }
  }
`);

export const NotificationAdded = graphql(`
  subscription NotificationAdded {
    notificationAdded {
      ...NotificationFields
    }
  }
`);

export const TelemetryReportUpdated = graphql(`
  subscription TelemetryReportUpdated($id: ID!) {
    telemetryReportUpdated(id: $id) {
      ...TelemetryReportFields
    }
  }
`);

export const RetrohuntUpdated = graphql(`
  subscription RetrohuntUpdated($id: ID!) {
    retrohuntUpdated(id: $id) {
      ...RetrohuntFields
    }
  }
`);

export const AlertCreated = graphql(`
  subscription AlertCreated($collectionId: ID) {
    alertCreated(collectionId: $collectionId) {
      ...AlertFields
    }
  }
`);
