*** Settings ***
Documentation       Session persistence, end to end, on a real database built by `alembic upgrade head`.
...
...                 The backend is the database named by CLEVERAGENTS_TEST_DATABASE_URL, or else a
...                 fresh SQLite file in a temporary directory. That database may be shared with
...                 other runs, so every check is about this suite's own sessions, and Suite
...                 Teardown deletes exactly the sessions this suite created.

Library             Collections
Library             helper_session_persistence.py    AS    SessionPersistence

Suite Setup         Open Session Service On Upgraded Database
Suite Teardown      Close Session Service And Clean Up


*** Variables ***
${REPOSITORY ROOT}      ${CURDIR}${/}..
${METADATA}             ${{ {"purpose": "trip planning", "budget": 1200, "tags": ["rail", "europe"], "limits": {"days": 5, "strict": True}} }}
@{MIXED ROLES}          user    assistant    tool    system


*** Test Cases ***
Session Round Trip
    [Documentation]    A created session reads back unchanged, is listed for its actor,
    ...    and after deletion is gone from both reads and listings.
    ${actor}=    Unique Actor Name    planner
    ${session}=    Create Session    ${actor}    title=Trip to Lisbon    metadata=${METADATA}
    Stored Session Should Equal Created Session    ${session}
    Session Should Have Fields    ${session}
    ...    actor_name=${actor}    title=Trip to Lisbon    metadata=${METADATA}
    ...    message_count=${0}    input_tokens=${0}    output_tokens=${0}
    ${listed}=    List Session Ids    actor_name=${actor}
    List Should Contain Value    ${listed}    ${session}
    ${deleted}=    Delete Session    ${session}
    Should Be True    ${deleted}    Deleting an existing session should report that it deleted one
    Session Should Not Exist    ${session}
    ${listed}=    List Session Ids    actor_name=${actor}
    List Should Not Contain Value    ${listed}    ${session}
    ${deleted again}=    Delete Session    ${session}
    Should Not Be True    ${deleted again}    Deleting a deleted session should report nothing deleted

Messages Keep Their Order
    [Documentation]    Messages of every role come back in the order they were appended,
    ...    numbered 0, 1, 2, ... without gaps, and the session counts them.
    ${actor}=    Unique Actor Name    orderer
    ${session}=    Create Session    ${actor}
    ${roles}    ${contents}=    Append 25 Messages Of Mixed Roles To ${session}
    Message Sequences Should Be Contiguous    ${session}    25
    ${stored roles}=    Get Message Values    ${session}    role
    Lists Should Be Equal    ${stored roles}    ${roles}
    ${stored contents}=    Get Message Values    ${session}    content
    Lists Should Be Equal    ${stored contents}    ${contents}
    Session Should Have Fields    ${session}    message_count=${25}

Export And Import Copy A Session Faithfully
    [Documentation]    An exported session imports as a new session with fresh ids and the same
    ...    content; the export is deterministic and the original stays as it was.
    ${actor}=    Unique Actor Name    exporter
    ${original}=    Create Session    ${actor}    title=Export me    metadata=${METADATA}
    Append Message    ${original}    system    You plan trips.
    Append Message    ${original}    user    Plan three days in Lisbon, please.
    ...    metadata=${{ {"lang": "en"} }}    token_count=12
    Append Message    ${original}    assistant    Day 1: Alfama. Day 2: Belém. Day 3: Sintra ✓
    ...    token_count=40
    Append Message    ${original}    tool    {"weather": "sunny", "temperature_c": 24}
    Record Token Usage    ${original}    input_tokens=120    output_tokens=45
    ${before}=    Take Session Snapshot    ${original}
    ${document}=    Export Session    ${original}
    ${second document}=    Export Session    ${original}
    Should Be Equal    ${document}[checksum]    ${second document}[checksum]
    ...    Exporting an unchanged session twice should give the same checksum
    ${copy}=    Import Session    ${document}
    Should Not Be Equal    ${copy}    ${original}    The import should get a new session id
    Imported Session Should Match    ${copy}    ${original}
    ${after}=    Take Session Snapshot    ${original}
    Dictionaries Should Be Equal    ${after}    ${before}
    ...    The original session should be untouched by exporting and importing it

Token Usage Accumulates
    [Documentation]    Each update adds to the running totals; an unknown session is an error
    ...    and is not created by the attempt.
    ${actor}=    Unique Actor Name    counter
    ${session}=    Create Session    ${actor}
    Token Usage Should Be    ${session}    input_tokens=0    output_tokens=0    total_tokens=0
    ${updated}=    Record Token Usage    ${session}    input_tokens=100    output_tokens=20
    Should Be Equal As Integers    ${updated.total_tokens}    120
    ${updated}=    Record Token Usage    ${session}    input_tokens=50    output_tokens=5
    Should Be Equal As Integers    ${updated.total_tokens}    175
    Token Usage Should Be    ${session}    input_tokens=150    output_tokens=25    total_tokens=175
    ${unknown}=    Unused Session Id
    Run Keyword And Expect Error    SessionNotFoundError: session '${unknown}' does not exist
    ...    Record Token Usage    ${unknown}    input_tokens=1    output_tokens=1
    Session Should Not Exist    ${unknown}


*** Keywords ***
Open Session Service On Upgraded Database
    ${backend}=    Prepare Test Database
    Set Suite Metadata    Backend    ${backend}
    Upgrade Database To Head    ${REPOSITORY ROOT}
    Open Session Service

Close Session Service And Clean Up
    Delete Sessions Created By This Suite
    Close Session Service
    Remove Test Database

Append ${count} Messages Of Mixed Roles To ${session}
    [Documentation]    Appends messages cycling through the roles; returns the roles and
    ...    contents expected back, in order.
    ${roles}=    Create List
    ${contents}=    Create List
    ${role count}=    Get Length    ${MIXED ROLES}
    FOR    ${index}    IN RANGE    ${count}
        ${position}=    Evaluate    ${index} % ${role count}
        ${role}=    Get From List    ${MIXED ROLES}    ${position}
        ${content}=    Set Variable    Message ${index} from the ${role}: olá, ✓
        ${sequence}=    Append Message    ${session}    ${role}    ${content}
        Should Be Equal As Integers    ${sequence}    ${index}
        ...    Message ${index} should get sequence ${index}
        Append To List    ${roles}    ${role}
        Append To List    ${contents}    ${content}
    END
    RETURN    ${roles}    ${contents}
