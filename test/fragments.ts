// What the tests select of each type, once: every document of test/documents.ts spreads
// these. Codegen reads them here and puts each into the typed documents that spread it
// (fragment masking is off, so a result holds the fields themselves); nothing imports
// this file. Their types are `<Name>Fragment` in ./generated/graphql.ts.
import { graphql } from './generated/gql.ts';

/** Every error member of a result union, with the fields of each kind. */
graphql(`
  fragment MutationError on Error {
    code
    message
    ... on ValidationError {
      field
    }
    ... on ForbiddenError {
      missingPermission
    }
    ... on UnreadableFileError {
      reason
    }
  }
`);

graphql(`
  fragment PageInfoFields on PageInfo {
    hasNextPage
    endCursor
  }
`);

graphql(`
  fragment CommunityFields on Community {
    id
    name
    permissions
    parent {
      id
    }
    children {
      id
    }
  }
`);

graphql(`
  fragment CollectionFields on Collection {
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
`);

graphql(`
  fragment ThreatFields on Threat {
    id
    name
    aliases
    kind
  }
`);

/** An indicator with its properties, as the indicator list and an edit both show it. */
graphql(`
  fragment IndicatorFields on Indicator {
    id
    type
    value
    description
    validFrom
    validUntil
    revoked
    revokedAt
    updatedAt
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

/** An import job's state and counts, as a poll and importJobUpdated both show them. */
graphql(`
  fragment ImportJobFields on ImportJob {
    id
    kind
    status
    total
    processed
    created
    updated
    unchanged
    invalid
    failureMessage
    finishedAt
    collection {
      id
    }
  }
`);

graphql(`
  fragment UploadedFileFields on UploadedFile {
    id
    fileName
    size
  }
`);

graphql(`
  fragment NotificationFields on Notification {
    id
    kind
    title
    read
    subject {
      __typename
      id
      ... on TelemetryReport {
        status
        indicatorsSeen
      }
    }
  }
`);

graphql(`
  fragment TelemetryReportFields on TelemetryReport {
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
  }
`);

graphql(`
  fragment TelemetryEntryFields on TelemetryEntry {
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
`);

graphql(`
  fragment RetrohuntFields on Retrohunt {
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
    rule {
      id
    }
  }
`);

/** A rule with its newest retrohunt, as the rule page shows it. */
graphql(`
  fragment DetectionRuleFields on DetectionRule {
    id
    name
    enabled
    collection {
      id
    }
    latestRetrohunt {
      ...RetrohuntFields
    }
  }
`);

graphql(`
  fragment AlertFields on Alert {
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

/**
 * What node(id) and nodes(ids) show of any type. Not the fragments above: those select
 * fields that may not meet in one selection (Alert.status is no JobStatus, ImportJob.kind
 * no String, Alert.rule may be null where Retrohunt.rule may not); the alert's status is
 * named alertStatus here for that reason.
 */
graphql(`
  fragment NodeSummary on Node {
    __typename
    id
    ... on Community {
      name
    }
    ... on Collection {
      name
      indicatorCount
      viewerCanManage
    }
    ... on Indicator {
      value
      revoked
    }
    ... on ImportJob {
      status
      invalid
    }
    ... on Notification {
      title
      read
    }
    ... on Threat {
      name
    }
    ... on UploadedFile {
      fileName
      size
    }
    ... on TelemetryReport {
      status
      indicatorsSeen
    }
    ... on DetectionRule {
      name
      enabled
      collection {
        id
      }
    }
    ... on Retrohunt {
      status
      matches
      rule {
        id
      }
    }
    ... on Alert {
      field
      value
      count
      alertStatus: status
      community {
        id
      }
    }
  }
`);
